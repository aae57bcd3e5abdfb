/**
 * The HTTP plumbing, and nothing else: bounded body reading and JSON replies.
 * Prove-specific meaning lives in the modules that call these.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, Codes, malformed } from './errors.js';

/** Prove refuses bodies over 4 KB with 8001. */
export const MAX_BODY_BYTES = 4096;
/** Past this we stop draining and drop the connection: nobody legitimate sends it. */
const HARD_CAP_BYTES = 1024 * 1024;

/**
 * Reads the whole body. An oversized body is drained (not cut off) before the 400 so that the
 * client sees the answer instead of a reset socket mid-upload.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: ApiError | null, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(body ?? Buffer.alloc(0));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HARD_CAP_BYTES) {
        finish(new ApiError(413, Codes.malformed, `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.socket.destroy();
        return;
      }
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) finish(malformed(`request body exceeds ${MAX_BODY_BYTES} bytes`));
      else finish(null, Buffer.concat(chunks));
    });
    req.on('error', () => finish(malformed('request body could not be read')));
  });
}

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (mediaType(req) !== 'application/json') {
    // Drain anyway so keep-alive connections stay usable.
    await readBody(req);
    throw malformed('content-type must be application/json');
  }
  const raw = await readBody(req);
  if (raw.length === 0) throw malformed('request body is empty: expected a JSON object');
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw malformed('request body is not valid JSON');
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const raw = await readBody(req);
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw malformed('content-type must be application/x-www-form-urlencoded');
  }
  return new URLSearchParams(raw.toString('utf8'));
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    // Tokens and outcomes must never be cached by a proxy in between.
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}
