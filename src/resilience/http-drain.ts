import { ServerResponse, type IncomingMessage } from 'node:http';

/**
 * The HTTP half of a graceful shutdown. While draining, the port stays open so that /ready can
 * say "draining" and /health "alive", but no new work is taken: a GraphQL request that arrives
 * is answered 503 (SHUTTING_DOWN, Retry-After, Connection: close) before anything runs, so
 * sending it again — to another instance — is always safe. Requests already in flight finish;
 * their responses carry Connection: close so no client reuses the socket. Server-sent event
 * streams never end by themselves: they are cut at once, and their clients reconnect elsewhere
 * (a subscription first sends the flow as it stands, so nothing is missed).
 *
 * A response is an event stream when the headers it sent say so (content-type), not when the
 * request's Accept allowed one: a mutation sent with `Accept: text/event-stream` is in flight like
 * any other request until its answer has gone out, and is never cut while it waits for Prove.
 */
export class HttpDrain {
  #draining = false;
  /** Each response in flight, and whether it is an event stream (known once its headers went out). */
  readonly #inFlight = new Map<ServerResponse, boolean>();
  readonly #waiters = new Set<() => void>();
  /** One 'close' listener for every response (node:http calls it with the response as `this`). */
  readonly #closed: (this: ServerResponse) => void;

  /**
   * The server's response class (node:http's `ServerResponse` option): it tells the drain when
   * its headers go out, so that tracking a request makes no wrapper of its own.
   */
  readonly Response: typeof ServerResponse;

  constructor() {
    const drain = this;
    this.#closed = function (this: ServerResponse) {
      drain.#inFlight.delete(this);
      if (drain.#draining && drain.pending() === 0) for (const wake of drain.#waiters) wake();
    };
    class TrackedResponse extends ServerResponse {}
    const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
    TrackedResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      const result = writeHead.apply(this, args);
      drain.#headersOut(this, args);
      return result;
    } as ServerResponse['writeHead'];
    this.Response = TrackedResponse as typeof ServerResponse;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Call first for every request. */
  track(_req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight.set(res, false);
    if (this.#draining) res.setHeader('connection', 'close');
    if (!this.#ownResponse(res)) {
      // A server made without `Response`: its responses are watched one by one.
      const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse;
      res.writeHead = ((...args: unknown[]) => {
        const result = writeHead.apply(res, args);
        this.#headersOut(res, args);
        return result;
      }) as ServerResponse['writeHead'];
    }
    res.on('close', this.#closed);
  }

  #ownResponse(res: ServerResponse): boolean {
    return res instanceof this.Response;
  }

  // writeHead is where the headers go out (node:http calls it for an implicit head too); headers
  // passed to it directly are not readable through getHeader, so they are read from its arguments.
  #headersOut(res: ServerResponse, args: unknown[]): void {
    if (this.#inFlight.has(res)) this.#inFlight.set(res, isEventStream(contentTypeIn(args) ?? res.getHeader('content-type')));
  }

  /** Requests in flight that end by themselves (everything but event streams). */
  pending(): number {
    let count = 0;
    for (const streaming of this.#inFlight.values()) if (!streaming) count++;
    return count;
  }

  /** Starts draining: no keep-alive from now on, event streams cut. */
  begin(): void {
    this.#draining = true;
    for (const [res, streaming] of this.#inFlight) {
      if (streaming) res.destroy();
      else if (!res.headersSent) res.setHeader('connection', 'close');
    }
  }

  /** Resolves true once every request in flight has finished, false if `timeoutMs` passed first. */
  settled(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        // An event stream whose headers went out after begin() is cut now.
        for (const [res, streaming] of this.#inFlight) if (streaming) res.destroy();
        if (this.pending() > 0) return false;
        finish(true);
        return true;
      };
      const poll = setInterval(check, 50);
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      const wake = () => void check();
      const finish = (ok: boolean) => {
        clearInterval(poll);
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(ok);
      };
      this.#waiters.add(wake);
      check();
    });
  }

  /** The 503 for work that arrives while draining. */
  refuse(res: ServerResponse): void {
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
    res.end(
      JSON.stringify({
        errors: [
          {
            message: 'This gateway instance is shutting down; nothing was run. Send the request again (another instance will answer)',
            extensions: { code: 'SHUTTING_DOWN' },
          },
        ],
      }),
    );
  }
}

const isEventStream = (contentType: unknown): boolean =>
  typeof contentType === 'string' && contentType.trimStart().toLowerCase().startsWith('text/event-stream');

/** The content-type among writeHead's arguments: (status, [reason], [headers as an object or an array]). */
function contentTypeIn(args: unknown[]): unknown {
  const headers = typeof args[1] === 'string' ? args[2] : args[1];
  if (Array.isArray(headers)) {
    const flat: unknown[] = Array.isArray(headers[0]) ? headers.flat() : headers;
    for (let i = 0; i + 1 < flat.length; i += 2) if (String(flat[i]).toLowerCase() === 'content-type') return flat[i + 1];
    return undefined;
  }
  if (headers && typeof headers === 'object') {
    for (const key in headers) if (key.toLowerCase() === 'content-type') return (headers as Record<string, unknown>)[key];
  }
  return undefined;
}
