import { DONE } from '../flows/pull-iterator.js';

/**
 * A subscription's stream whose typed failures are values: when the source throws an error that
 * `isTyped` recognises, that error is the stream's last value (the field resolves it as its typed
 * error) and the stream then completes; any other error propagates as it was thrown. One object
 * around the source, no generator: open subscriptions hold one each for as long as they are open.
 */
export function typedFailures<T, E>(source: AsyncIterator<T>, isTyped: (error: unknown) => unknown): AsyncIterableIterator<T | E> {
  return new TypedFailures<T, E>(source, isTyped);
}

class TypedFailures<T, E> implements AsyncIterableIterator<T | E> {
  #failed = false;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly isTyped: (error: unknown) => unknown,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T | E>> {
    if (this.#failed) return Promise.resolve(DONE);
    return this.source.next().catch((error: unknown) => {
      if (!this.isTyped(error)) throw error;
      this.#failed = true;
      return { done: false, value: error as E };
    });
  }

  return(value?: unknown): Promise<IteratorResult<T | E>> {
    this.#failed = true;
    return this.source.return ? this.source.return(value) : Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T | E>> {
    this.#failed = true;
    return this.source.throw ? this.source.throw(error) : Promise.reject(error);
  }
}
