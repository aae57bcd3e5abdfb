import type { Plugin } from 'graphql-yoga';

/**
 * yoga answers a few refusals with a bare status line (415 for a content type it cannot read,
 * 406 for an Accept it cannot satisfy). A client should learn what to change, so these get a
 * GraphQL-shaped body too; the status and headers (Accept, Allow) stay as yoga set them.
 */
const EXPLANATIONS: Record<number, string> = {
  405: 'This method is not allowed here: use POST (or GET for queries)',
  406: 'None of the accepted media types can be served: accept application/graphql-response+json or application/json',
  415: 'Unsupported Content-Type: send a JSON body with Content-Type: application/json',
};

type FetchAPI = { Headers: typeof Headers; Response: typeof Response };

/** The response with its explanation, or undefined when it needs none (not a bare 4xx). */
export function explainedRefusal(response: Response, fetchAPI: FetchAPI): Response | undefined {
  if (response.status < 400 || response.status >= 500 || response.body !== null) return undefined;
  const message = EXPLANATIONS[response.status] ?? `${response.status} ${response.statusText || 'Request refused'}`;
  const headers = new fetchAPI.Headers(response.headers);
  headers.set('content-type', 'application/json; charset=utf-8');
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message }] }), { status: response.status, statusText: response.statusText, headers });
}

export function useExplainedRefusals(): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (request.method === 'HEAD') return;
      const explained = explainedRefusal(response, fetchAPI);
      if (explained) setResponse(explained);
    },
  };
}
