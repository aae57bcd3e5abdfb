import type { Keyv } from 'keyv';
import type { ConditionalWrites } from './conditional-write.js';

/**
 * Where state lives: in process memory (one instance) or in Redis (several instances behind a
 * load balancer). Failures are loud: a Redis error throws instead of reading as "not found" or a
 * write that silently did not happen.
 */
export interface Store {
  keyv: Keyv;
  kind: 'memory' | 'redis';
  /** Flow records' fenced write (conditional-write.ts): atomic in the store itself. */
  writes: ConditionalWrites;
  /** Resolves when the backend answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Resolves once the first connection is up (at once in memory); rejects if it could not be made. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
