import type { Log } from '../lib/log.js';
import type { ProveClient } from '../prove/types.js';
import type { ProveRegion } from '../prove/regions.js';
import type { FlowRepository } from '../store/flow-repository.js';
import type { Locks } from '../store/locks.js';
import type { FlowEvents } from '../events/flow-events.js';
import type { Caller } from './caller.js';
import type { PhonePolicy } from './phone.js';
import type { Flow } from './flow.js';

/** What FlowService is built from, and the seams others plug into it (limits, resumable watches). */

export interface StartGuard {
  /**
   * Throws RateLimitedError (or another GatewayError) when this start must not reach Prove. A
   * phone-less start has no number yet: only the caller's limits apply. `log`: the request's.
   */
  admit(phoneNumber: string | undefined, caller: Caller, log: Log): Promise<StartCharge | void>;
  /**
   * A flow learnt (or changed to) this number from Prove: it counts against the number's limit
   * from now on (the limit of the API key that started it, `keyId`, or the public one).
   */
  learned?(phoneNumber: string, keyId: string | undefined, log: Log): Promise<void>;
}

/** What admit charged: given back when the start sent nothing (Prove, or our own guards, refused it). */
export interface StartCharge {
  refund(): Promise<void>;
}

export interface FlowServiceDeps {
  /** A single Prove (one region, the default): what a one-region setup or a test passes. */
  prove?: ProveClient;
  /** Prove per region (the gateway): a start goes to its number's region, and its flow stays there. */
  regions?: { clients: Partial<Record<ProveRegion, ProveClient>>; defaultRegion: ProveRegion };
  repo: FlowRepository;
  events: FlowEvents;
  locks: Locks;
  phonePolicy: PhonePolicy;
  /** FINAL_TARGET_ORIGINS: where Instant Links may lead (empty: anywhere). */
  finalTargetOrigins?: readonly string[];
  flowTtlMs: number;
  startGuard?: StartGuard;
  /**
   * Wraps every watch (resilience/resumable-flows.ts: a watch that outlives a store outage). Gets
   * a function that starts the plain watch, as often as it needs one, and the subscriber's log.
   */
  wrapWatch?: WrapWatch;
  /** Called once per stored transition, by the instance that stored it (webhooks); awaited, must not throw. */
  onTransition?: (flow: Flow) => Promise<void>;
  now?: () => number;
}

export type WrapWatch = (
  start: (signal: AbortSignal | undefined) => AsyncIterator<Flow>,
  signal: AbortSignal | undefined,
  log: Log,
) => AsyncIterableIterator<Flow>;
