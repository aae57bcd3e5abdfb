import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A cap on request bodies, checked before yoga sees them: a declared Content-Length above the cap
 * is refused at once, and a body that turns out longer (chunked, or a lying header) is refused as
 * soon as it crosses the cap, without reading the rest. Either way the client gets a 413 with a
 * GraphQL-shaped message and the connection is closed.
 *
 * The body read here is handed to yoga as `req.body` (@whatwg-node/server takes an already-read
 * body from there, as it does behind Express' body parsers).
 *
 * The cap matches graphql-ws' maxPayload (64 KiB), so HTTP and WebSocket refuse the same sizes.
 * A real startUnify is well under 2 KiB.
 */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = (res: ServerResponse, limit: number) => {
  if (res.headersSent) return;
  const body = JSON.stringify({
    errors: [{ message: `The request body is larger than ${limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
  });
  res.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
};

/** Reads the body within `limit` bytes onto `req.body`; false when it answered (413) or the client went away. */
export function readBodyWithin(req: IncomingMessage, res: ServerResponse, limit = MAX_BODY_BYTES): Promise<boolean> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return Promise.resolve(true);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    tooLarge(res, limit);
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        tooLarge(res, limit);
        settle(false);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks, size);
      settle(true);
    };
    const onError = () => settle(false);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}
