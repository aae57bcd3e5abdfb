import type { IncomingMessage, ServerResponse } from 'node:http';
import { refusalText, type LiveGuard, type LiveRefusal } from '../security/live-limits.js';
import { markCountedStream } from '../security/live-stream-plugin.js';

/**
 * The live limits on streamed GraphQL over HTTP: a request to the GraphQL path that accepts an
 * event stream (SSE) or multipart/mixed holds a connection and a subscription slot from its
 * arrival until its response closes, however it ends (complete, client gone, shutdown). Over a
 * limit it is answered 429 with a GraphQL-shaped JSON error before yoga reads it. A subscription
 * streamed to a request that did not ask for a stream is counted at subscribe time instead
 * (src/security/live-stream-plugin.ts).
 *
 * Returns the request handler's first step: false when it has answered the request itself.
 */
export function liveStreams(graphqlPath: string, guard: LiveGuard): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (!isStream(req, graphqlPath)) return true;
    const address = guard.addressOf(req);
    const { limits } = guard;
    const refused = limits.stream(address);
    if (refused) return refuse(res, refused, address, guard);
    markCountedStream(req);
    res.once('close', () => limits.endStream(address));
    return true;
  };
}

function isStream(req: IncomingMessage, graphqlPath: string): boolean {
  const accept = req.headers.accept;
  if (!accept || (req.method !== 'GET' && req.method !== 'POST')) return false;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  if ((query < 0 ? url : url.slice(0, query)) !== graphqlPath) return false;
  return accept.includes('text/event-stream') || accept.includes('multipart/mixed');
}

function refuse(res: ServerResponse, refusal: LiveRefusal, address: string, guard: LiveGuard): false {
  guard.onRefused(refusal, address);
  const { message, code } = refusalText(refusal, guard.limits.config);
  res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, limit: refusal } }] }));
  return false;
}
