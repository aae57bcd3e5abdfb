/**
 * Concurrent callers with the same key share the one call in flight (N status requests for one
 * flow make one Prove call); the key is free again once that call settles.
 */
export function singleFlight<T>(): { run<R extends T>(key: string, work: () => Promise<R>): Promise<R> } {
  const inflight = new Map<string, Promise<T>>();
  return {
    run<R extends T>(key: string, work: () => Promise<R>): Promise<R> {
      const running = inflight.get(key) as Promise<R> | undefined;
      if (running) return running;
      const promise = work().finally(() => inflight.delete(key));
      inflight.set(key, promise);
      return promise;
    },
  };
}
