import { Keyv } from 'keyv';
import { deserialize, serialize } from './serialization.js';
import type { Store } from './store-backend.js';
import { serialWrites } from './conditional-write.js';

/**
 * keyv's default memory store is a plain Map that forgets an expired entry only when it is read,
 * so a long-running single instance would keep every flow, claim and limit it ever saw. This Map
 * also sweeps: entries past their time to live are dropped every `sweepMs`.
 */
export class ExpiringMap<V> extends Map<string, V> {
  private readonly deadlines = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepMs = 60_000, private readonly now: () => number = Date.now) {
    super();
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    // A store never keeps the process alive by itself.
    this.sweeper.unref();
  }

  /** keyv passes the time to live in milliseconds as a third argument. */
  override set(key: string, value: V, ttlMs?: number): this {
    super.set(key, value);
    // Map's constructor calls set before our fields exist; it adds nothing, so nothing is lost.
    if (typeof ttlMs === 'number' && ttlMs > 0) this.deadlines?.set(key, this.now() + ttlMs);
    else this.deadlines?.delete(key);
    return this;
  }

  override delete(key: string): boolean {
    this.deadlines.delete(key);
    return super.delete(key);
  }

  override clear(): void {
    this.deadlines.clear();
    super.clear();
  }

  sweep(): void {
    const now = this.now();
    for (const [key, deadline] of this.deadlines) {
      if (deadline <= now) this.delete(key);
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** The store of a single instance: keyv on an ExpiringMap. */
export function createMemoryStore(namespace = 'unify'): Store {
  const map = new ExpiringMap<unknown>();
  const keyv = new Keyv({ store: map, namespace, throwOnErrors: true, serialize, deserialize });
  return { keyv, kind: 'memory', writes: serialWrites(keyv), ping: async () => {}, ready: async () => {}, close: async () => map.stop() };
}
