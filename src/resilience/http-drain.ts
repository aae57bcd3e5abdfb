import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The HTTP half of a graceful shutdown. While draining, the port stays open so that /ready can
 * say "draining" and /health "alive", but no new work is taken: a GraphQL request that arrives
 * is answered 503 (SHUTTING_DOWN, Retry-After, Connection: close) before anything runs, so
 * sending it again — to another instance — is always safe. Requests already in flight finish;
 * their responses carry Connection: close so no client reuses the socket. Server-sent event
 * streams never end by themselves: they are cut at once, and their clients reconnect elsewhere
 * (a subscription first sends the flow as it stands, so nothing is missed).
 */
export class HttpDrain {
  #draining = false;
  readonly #inFlight = new Map<ServerResponse, IncomingMessage>();
  readonly #waiters = new Set<() => void>();

  get draining(): boolean {
    return this.#draining;
  }

  /** Call first for every request. */
  track(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight.set(res, req);
    if (this.#draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.#inFlight.delete(res);
      if (this.#draining && this.pending() === 0) for (const wake of this.#waiters) wake();
    });
  }

  /** Requests in flight that end by themselves (everything but event streams). */
  pending(): number {
    let count = 0;
    for (const req of this.#inFlight.values()) if (!isEventStream(req)) count++;
    return count;
  }

  /** Starts draining: no keep-alive from now on, event streams cut. */
  begin(): void {
    this.#draining = true;
    for (const [res, req] of this.#inFlight) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      else if (isEventStream(req)) res.destroy();
    }
  }

  /** Resolves true once every request in flight has finished, false if `timeoutMs` passed first. */
  settled(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        // An event stream whose headers went out after begin() is cut now.
        for (const [res, req] of this.#inFlight) if (res.headersSent && isEventStream(req)) res.destroy();
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

const isEventStream = (req: IncomingMessage) => req.headers.accept?.includes('text/event-stream') === true;
