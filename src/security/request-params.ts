import type { Plugin } from 'graphql-yoga';
import { badRequest, paramsBoundsError, type OperationParams } from './request-bounds.js';

/**
 * The operation parameters a client sends, checked before anything uses them, as one envelop/yoga
 * plugin (so it acts for every transport that runs the pipeline):
 * - GET: `variables` and `extensions` that are not JSON are the client's mistake, a 400 with a
 *   message (yoga's own GET parser lets JSON.parse throw, which reached clients as a masked
 *   "Unexpected error." and the log as an error).
 * - Every transport: variables and extensions deeper or larger than JSON_BOUNDS are refused before
 *   anything walks them, in the parse hook, which every operation passes (src/graphql/operation.ts
 *   and yoga's own path): a 400 over HTTP, an operation error over graphql-ws.
 */
export function useRequestBounds(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method === 'GET') setRequestParser(parseGet);
    },
    onParse({ context }) {
      const refusal = paramsBoundsError((context as { params?: OperationParams }).params);
      if (refusal) throw refusal;
    },
  };
}

/** A JSON query-string parameter; a 400 naming it when it is not JSON. */
function jsonParam(searchParams: URLSearchParams, name: string): unknown {
  const text = searchParams.get(name) || undefined;
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`The "${name}" query parameter is not valid JSON`);
  }
}

/** yoga's GET parser (graphql-over-HTTP's query-string parameters), with JSON mistakes answered 400. */
function parseGet(request: Request) {
  const { searchParams } = new URL(request.url, 'http://localhost');
  return {
    operationName: searchParams.get('operationName') || undefined,
    query: searchParams.get('query') || undefined,
    documentId: searchParams.get('documentId') ?? undefined,
    variables: jsonParam(searchParams, 'variables') as Record<string, unknown> | undefined,
    extensions: jsonParam(searchParams, 'extensions') as Record<string, unknown> | undefined,
  };
}
