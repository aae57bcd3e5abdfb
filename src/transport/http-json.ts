import type { IncomingMessage, ServerResponse } from 'node:http';
import { getSSEProcessor, processRegularResult } from 'graphql-yoga';
import { explainedRefusal } from '../security/http-refusals.js';
import type { ExecutionResult } from 'graphql';
import type { Log } from '../lib/log.js';
import type { OperationParams, OperationResult, OperationRunner } from '../graphql/operation.js';
import { UNEXPECTED_ERROR_MESSAGE, type GatewayYoga } from '../graphql/yoga.js';

/**
 * A thin GraphQL-over-HTTP transport on node:http for the one request shape backends and apps send
 * over and over: `POST /graphql`, `Content-Type: application/json`, a JSON object body
 * `{ query?, documentId?, variables?, operationName?, extensions? }` (a text, or a trusted document's
 * id: src/graphql/trusted-documents.ts), no `Origin`. It moves bytes only: the
 * operation runs through the one runner (src/graphql/operation.ts), so parsing, validation,
 * limits, the caller, masking, suggestions, metrics and tracing are the plugins' doing, exactly as
 * on yoga's path; the result is serialised as yoga's regular result processor does (status from
 * the errors' `http` extensions, media type per `Accept`). Yoga's own HTTP layer (@whatwg-node's
 * Request/Response, its request parsers and result processors) is what it skips.
 *
 * Everything else goes to yoga untouched, before anything ran: other methods, paths and content
 * types, browsers (they send Origin: yoga applies CORS, the origin policy and CSRF prevention),
 * an `Accept` that is not exactly one of the media types below, bodies that are not JSON or not
 * such an object (yoga's words for them: 400 with its messages), batches (arrays).
 */

/** The media type answered for each `Accept` this transport takes (what yoga would choose). */
const ACCEPTED: Record<string, string> = {
  '*/*': 'application/json',
  'application/json': 'application/json',
  'application/graphql-response+json': 'application/graphql-response+json',
};

/** What yoga's own plugins read of an HTTP request during the operation (its method: parse errors are 400, mutations need POST). */
const POST = { method: 'POST' } as const;

export interface HttpJsonOptions {
  yoga: GatewayYoga;
  runner: OperationRunner;
  /** Told of each request this transport answered (tests check which transport served what). */
  onServed?: () => void;
}

export interface HttpJsonTransport {
  /**
   * Answers the request when it has the one shape (true), or leaves it to yoga untouched (false).
   * The body is on `req.body`; `log` is the request's, handed to the operation's context.
   */
  serve(req: IncomingMessage, res: ServerResponse, log: Log): boolean;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optional = (value: unknown, test: (v: unknown) => boolean) => value === undefined || value === null || test(value);

/** The body's operation parameters when they are of the plain shape, otherwise undefined (yoga answers them). */
function paramsOf(body: Buffer): OperationParams | undefined {
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isPlainObject(params)) return undefined;
  for (const key in params) {
    if (key !== 'query' && key !== 'variables' && key !== 'operationName' && key !== 'extensions' && key !== 'documentId') return undefined;
  }
  const { query, variables, operationName, extensions } = params;
  // No text is the shape of a trusted document sent by id (`documentId` or the APQ extension): the runner resolves it.
  if (!optional(query, (v) => typeof v === 'string')) return undefined;
  if (!optional(variables, isPlainObject) || !optional(extensions, isPlainObject)) return undefined;
  if (!optional(operationName, (v) => typeof v === 'string')) return undefined;
  return params as OperationParams;
}

export function createHttpJsonTransport(options: HttpJsonOptions): HttpJsonTransport {
  const { yoga, runner } = options;

  const write = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    if (res.destroyed || res.headersSent) return;
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body);
  };

  const answer = async (res: ServerResponse, result: OperationResult, mediaType: string, streams: boolean) => {
    if (Symbol.asyncIterator in result) {
      // A subscription sent as a plain POST: yoga streams it as SSE when the client accepts
      // anything, and refuses it (406) when it asked for JSON only; so does this transport, with
      // yoga's own processors.
      if (streams) return stream(res, await getSSEProcessor()(result, yoga.fetchAPI, 'text/event-stream'));
      await (result as AsyncIterableIterator<unknown>).return?.();
      // yoga's answer when no result processor fits: 406 naming the one that would, explained as yoga's plugin explains it.
      const refused = new yoga.fetchAPI.Response(null, { status: 406, statusText: 'Not Acceptable', headers: { accept: 'text/event-stream' } });
      return send(res, explainedRefusal(refused, yoga.fetchAPI) ?? refused);
    }
    // A result without errors or extensions is what yoga's processor turns into 200 and its JSON text.
    if (!result.errors?.length && !result.extensions) {
      return write(res, 200, { 'content-type': `${mediaType}; charset=utf-8` }, JSON.stringify(result));
    }
    // Errors: their status and headers come from their `http` extensions, by yoga's own processor.
    return send(res, await processRegularResult(result as ExecutionResult, yoga.fetchAPI, mediaType));
  };

  const headersOf = (response: Response) => {
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => (headers[key] = value));
    return headers;
  };

  const send = async (res: ServerResponse, response: Response) => write(res, response.status, headersOf(response), await response.text());

  const stream = async (res: ServerResponse, response: Response) => {
    if (res.destroyed || res.headersSent) return void (await response.body?.cancel());
    res.writeHead(response.status, headersOf(response));
    const reader = response.body!.getReader();
    // The client went away: cancelling the body returns the subscription's stream.
    const cancel = () => void reader.cancel().catch(() => {});
    res.once('close', cancel);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || res.destroyed || res.writableEnded) break;
        res.write(value);
      }
    } finally {
      res.off('close', cancel);
      if (!res.writableEnded) res.end();
    }
  };

  const run = async (req: IncomingMessage, res: ServerResponse, log: Log, params: OperationParams, mediaType: string, streams: boolean) => {
    // The request's own signal, as yoga gives one: aborted when the client goes away before the
    // answer. Made, and the response watched for it, for subscriptions only: the one operation
    // that reads it.
    let controller: AbortController | undefined;
    const onClose = () => {
      if (!res.writableFinished) controller?.abort();
    };
    const signalForSubscription = () => {
      controller = new AbortController();
      if (res.closed) controller.abort();
      else res.once('close', onClose);
      return controller.signal;
    };
    try {
      const result = await runner.run(params, { req, request: POST, log }, signalForSubscription);
      await answer(res, result, mediaType, streams);
      options.onServed?.();
    } finally {
      if (controller) res.off('close', onClose);
    }
  };

  return {
    serve(req, res, log) {
      if (req.method !== 'POST' || req.url !== yoga.graphqlEndpoint) return false;
      const { headers } = req;
      if (headers.origin !== undefined) return false;
      const contentType = headers['content-type']?.toLowerCase();
      if (contentType !== 'application/json' && contentType !== 'application/json; charset=utf-8') return false;
      const mediaType = headers.accept === undefined ? 'application/json' : ACCEPTED[headers.accept];
      if (!mediaType) return false;
      const body = (req as IncomingMessage & { body?: unknown }).body;
      if (!Buffer.isBuffer(body)) return false;
      const params = paramsOf(body);
      if (!params) return false;
      const streams = headers.accept === undefined || headers.accept === '*/*';
      run(req, res, log, params, mediaType, streams).catch((error: unknown) => {
        // Not expected: the plugins answer every refusal and mask what resolvers throw. Logged, answered 500, never a crash.
        log.error({ err: { message: (error as Error | undefined)?.message, name: (error as Error | undefined)?.name } }, 'http-json transport failed');
        if (res.headersSent) return void res.destroy();
        write(res, 500, { 'content-type': `${mediaType}; charset=utf-8` }, JSON.stringify({ errors: [{ message: UNEXPECTED_ERROR_MESSAGE }] }));
      });
      return true;
    },
  };
}
