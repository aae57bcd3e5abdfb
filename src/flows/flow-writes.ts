import { flowKey, type FlowRepository } from '../store/flow-repository.js';
import { takeLease, waitWhileHeld, type HeldLease } from '../store/leases.js';
import type { Locks } from '../store/locks.js';
import type { FlowEvents } from '../events/flow-events.js';
import { singleFlight } from '../lib/single-flight.js';
import type { Flow } from './flow.js';
import { FlowNotFoundError, FlowStartPendingError, UpstreamError } from './errors.js';
import { expireIfDue, type Transition } from './state-machine.js';

/**
 * How a flow changes hands safely: work on a flow runs under its lease, one holder at a time across
 * every instance, and every transition is stored fenced (the store's compare-and-set on the
 * version) and then announced as "flow X changed".
 */

/**
 * The lease on a flow is short and renewed while its holder works (store/leases.ts): a live holder
 * keeps it through a token fetch, a budget wait and unify-status's retries (20 s at worst), and a
 * dead one frees it within 3 s. A waiter waits for a live holder at most HOLDER_WAIT_MS.
 */
const FLOW_LEASE_MS = 3_000;
const HOLDER_WAIT_MS = 25_000;
const LEASE_POLL_MS = 25;

export interface FlowWritesDeps {
  repo: FlowRepository;
  locks: Locks;
  events: FlowEvents;
  /** Called once per stored transition, by the instance that stored it (webhooks); awaited. */
  onTransition?: (flow: Flow) => Promise<void>;
  now: () => number;
}

export class FlowWrites {
  readonly #singleFlight = singleFlight<Flow>();

  constructor(private readonly deps: FlowWritesDeps) {}

  /**
   * Stores and announces a transition (nothing for an unchanged one); answers what is stored.
   * `lease`: the one exclusive() handed its work, which such a write is fenced by.
   */
  async commit(transition: Transition, lease: HeldLease): Promise<Transition> {
    if (transition.changed) {
      // Fencing: a holder whose lease lapsed (it stalled; someone else may have taken over) does
      // not write, and no one overwrites a newer stored state with an older one. The lease check
      // is the cheap early answer; the fence itself is the store's conditional write (a lease can
      // lapse between any check and a write).
      if (!lease.kept) throw new UpstreamError(true, undefined, 'This flow was taken over while the gateway waited; try again');
      if (!(await this.deps.repo.save(transition.flow))) {
        const stored = await this.deps.repo.get(transition.flow.id);
        return { flow: stored ?? transition.flow, changed: false } as Transition;
      }
      this.deps.events.published(flowKey(transition.flow.id), transition.flow.version);
      await this.deps.onTransition?.(transition.flow);
    }
    return transition;
  }

  /**
   * Runs `work` on the freshest copy of the flow (clock applied) while no one else, in this process
   * or another instance, works on it. With 'share', concurrent callers join the call in flight and
   * whoever finds the lease taken reads the holder's result: N status requests make one Prove call.
   * With 'own' (bind), each caller waits its turn and runs its own checks on what the holder left:
   * a second bind must hear BindNotAllowedError, never the first bind's success. `work` gets the
   * lease it runs under, for its commit().
   */
  exclusive(id: string, work: (flow: Flow, lease: HeldLease) => Promise<Flow>, mode: 'share' | 'own' = 'share'): Promise<Flow> {
    const key = flowKey(id);
    const run = async (): Promise<Flow> => {
      for (let waited = 0; ; waited++) {
        const lease = await takeLease(this.deps.locks, `flow:${key}`, FLOW_LEASE_MS);
        if (!lease) {
          const before = mode === 'share' ? (await this.load(id)).version : 0;
          await waitWhileHeld(this.deps.locks, `flow:${key}`, HOLDER_WAIT_MS, LEASE_POLL_MS);
          if (mode === 'share') {
            const fresh = await this.load(id);
            // The holder stored a change: that is the answer. Nothing stored: the holder found no
            // change, or died with its answer (its lease lapsed): ask Prove ourselves, once.
            // Only the clock moved: that is a write, so it needs the lease.
            if ((fresh.version !== before || waited > 0) && !expireIfDue(fresh, this.deps.now()).changed) return fresh;
          }
          continue;
        }
        try {
          const { flow: current } = await this.commit(expireIfDue(await this.load(id), this.deps.now()), lease);
          return await work(current, lease);
        } finally {
          await lease.release();
        }
      }
    };
    return mode === 'share' ? this.#singleFlight.run(`flow:${key}`, run) : run();
  }

  /**
   * A flow not in the store: unknown (undefined), or started and reserved but its record still
   * held by the starting instance through a store outage (FlowStartPendingError, retryable).
   */
  async missing(id: string): Promise<undefined> {
    if (await this.deps.repo.isReserved(id)) throw new FlowStartPendingError();
    return undefined;
  }

  /** The stored record as it is, clock not applied (only exclusive() may apply it: it writes). */
  private async load(id: string): Promise<Flow> {
    const stored = await this.deps.repo.get(id);
    if (!stored) {
      await this.missing(id);
      throw new FlowNotFoundError();
    }
    return stored;
  }
}
