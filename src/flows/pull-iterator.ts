/**
 * The plumbing of a hand-written, pull-driven async iterator: next() calls made together run one
 * after the other, and return()/throw() end it at once. Subclasses say how to take one step and
 * how to release what they hold. Used where a subscription must cost one object, not a Repeater.
 */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export abstract class PullIterator<T> implements AsyncIterableIterator<T> {
  /** The next() under way, so calls made together run one after the other. */
  #tail: Promise<unknown> | undefined;

  /** One value, or DONE; called only when no other step is running. */
  protected abstract step(): Promise<IteratorResult<T>>;
  /** Releases everything at once; a pending step must end promptly. Called again, it does nothing. */
  protected abstract end(): void;

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const run = this.#tail ? this.#after(this.#tail) : this.step();
    this.#tail = run;
    // One function for both outcomes: a quiet subscription's pending next() holds it.
    const settled = () => {
      if (this.#tail === run) this.#tail = undefined;
    };
    void run.then(settled, settled);
    return run;
  }

  /**
   * next() for a caller that never calls again before a call has settled (a PullIterator around
   * this one, whose own next() queues): no queue and no reaction to keep per pending call.
   */
  pull(): Promise<IteratorResult<T>> {
    return this.#tail ? this.next() : this.step();
  }

  #after(tail: Promise<unknown>): Promise<IteratorResult<T>> {
    const step = () => this.step();
    return tail.then(step, step);
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }
}
