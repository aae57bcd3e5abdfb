import { GraphQLError } from 'graphql';

/**
 * The graceful shutdown of graphql-ws: no new sockets, no new operations; queries and mutations
 * under way finish and their results (next + complete) are sent before the sockets close with
 * 1001. Subscriptions do not count: they are cut at close and resumed by the client elsewhere.
 * Operations are told apart per socket context (graphql-ws's ctx) and operation id.
 */
export class WsDrain {
  #draining = false;
  #released = false;
  readonly #running = new WeakMap<object, Set<string>>();
  #count = 0;
  readonly #idleWaiters = new Set<() => void>();
  readonly #parked = new Set<() => void>();

  get draining(): boolean {
    return this.#draining;
  }

  /** Queries and mutations running now. */
  running(): number {
    return this.#count;
  }

  /** A query or mutation started on this socket. */
  started(ctx: object, id: string): void {
    let ids = this.#running.get(ctx);
    if (!ids) this.#running.set(ctx, (ids = new Set()));
    if (!ids.has(id)) (ids.add(id), this.#count++);
  }

  /** Its result was sent; deferred a turn, as graphql-ws calls onComplete/onError just before it sends that message. */
  finished(ctx: object, id: string): void {
    setImmediate(() => {
      if (!this.#running.get(ctx)?.delete(id)) return;
      if (--this.#count === 0) for (const wake of this.#idleWaiters) wake();
    });
  }

  /**
   * The answer to an operation that arrives while draining: it is never run, and its error is
   * held until the sockets close (1001), so the client sends it again after reconnecting, to
   * another instance.
   */
  async notRun(): Promise<GraphQLError[]> {
    if (!this.#released) await new Promise<void>((resolve) => this.#parked.add(resolve));
    return [new GraphQLError('This instance is shutting down; the operation was not run', { extensions: { code: 'SHUTTING_DOWN' } })];
  }

  /** Starts draining and waits up to `graceMs` for the queries and mutations under way. */
  async begin(graceMs: number): Promise<void> {
    this.#draining = true;
    if (this.#count === 0 || graceMs <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, graceMs);
      const waiters = this.#idleWaiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  /** The sockets are closing: the operations held by notRun() are answered now. */
  release(): void {
    this.#released = true;
    for (const wake of this.#parked) wake();
    this.#parked.clear();
  }
}
