import type { WrapWatch } from '../flows/service-deps.js';
import { resumableWatch } from './resumable-watch.js';

/**
 * Watches that survive a store outage (see resumable-watch.ts), for FlowService's `wrapWatch`:
 * only the live status stream changes; every other call fails fast with StoreUnavailableError
 * while the store is down, which is what a caller who can retry wants.
 */
export function resumableWatches(): WrapWatch {
  return (start, signal, log) => resumableWatch(start, { signal, logger: log });
}
