/**
 * One HTTP/1.1 request to Prove over node:http(s), on a keep-alive connection pool: the status,
 * Retry-After and the whole body as text, which is all the adapter reads (errors.ts RawResponse).
 *
 * Why not the SDK's default fetch: for each call it built a Request, cloned it, cloned the
 * Response to read it twice, and ran it all through WHATWG streams, AbortSignal plumbing and an
 * AsyncLocalStorage (which, on Node 20, puts promise hooks on every promise in the process). That
 * was about a quarter of the gateway's CPU per flow. The SDK still builds every request (URL,
 * method, headers); transport.ts hands it this as its `fetcher`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RawResponse } from './errors.js';

/** A Prove answer is a few hundred bytes; anything this large is not Prove, and is not buffered. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

export interface HttpExchangeOptions {
  /** Idle keep-alive connections are closed after this (less when the server hints less). Default 4000. */
  idleTimeoutMs?: number;
}

export class HttpExchange {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor({ idleTimeoutMs = 4_000 }: HttpExchangeOptions = {}) {
    // `timeout` applies to idle pooled sockets (node also honours the server's Keep-Alive hint,
    // minus a second), so we do not reuse a connection the server is about to close: a POST sent
    // on one would fail and unify is never retried. Active requests are bounded by the signal.
    const options = { keepAlive: true, timeout: idleTimeoutMs, scheduling: 'lifo' as const };
    this.#http = new HttpAgent(options);
    this.#https = new HttpsAgent(options);
  }

  /** Rejects on a network failure, on abort (with the signal's reason) and past MAX_RESPONSE_BYTES. */
  send(url: URL, method: string, headers: OutgoingHttpHeaders, body: string | null, signal: AbortSignal): Promise<RawResponse> {
    const https = url.protocol === 'https:';
    return new Promise<RawResponse>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      const finish = (error: unknown, response?: RawResponse) => {
        signal.removeEventListener('abort', onAbort);
        if (response) resolve(response);
        else reject(signal.aborted ? signal.reason : error);
      };
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: https ? this.#https : this.#http }, (res) =>
        readAll(res, (error, text) => {
          if (error !== undefined) return finish(error);
          finish(undefined, { status: res.statusCode ?? 0, retryAfter: header(res, 'retry-after'), text: text! });
        }),
      );
      req.once('error', (error) => finish(error));
      signal.addEventListener('abort', onAbort, { once: true });
      req.end(body ?? undefined);
    });
  }
}

function header(res: IncomingMessage, name: string): string | null {
  const value = res.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function readAll(res: IncomingMessage, done: (error: unknown, text?: string) => void) {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (error: unknown, text?: string) => {
    if (settled) return;
    settled = true;
    done(error, text);
  };
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      const error = new ResponseTooLargeError(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
      settle(error);
      res.destroy(error);
      return;
    }
    chunks.push(chunk);
  });
  res.once('end', () => settle(undefined, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
  // A connection dropped mid-body closes the response without 'end' (and not always with 'error').
  res.once('close', () => settle(new Error('connection closed before the response was complete')));
  res.once('error', (error) => settle(error));
}
