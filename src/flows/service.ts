import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ProveError, type ProveClient, type UnifyOutcome } from '../prove/types.js';
import type { FlowRepository } from '../store/flow-repository.js';
import { flowKey } from '../store/flow-repository.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Locks } from '../store/locks.js';
import { takeLease, waitWhileHeld, type HeldLease } from '../store/leases.js';
import type { FlowEvents } from '../events/flow-events.js';
import { type Caller, mayReplay, ownerOf } from './caller.js';
import { normalisePhoneNumber, redactPhoneNumber, type PhonePolicy } from './phone.js';
import { failureReasonsOf, type Flow } from './flow.js';
import { logReference } from './log-reference.js';
import { FlowWatch, type FlowWatchSource } from './flow-watch.js';
import {
  BindNotAllowedError, FlowExpiredError, FlowNotFoundError, GatewayError, InvalidInputError, RateLimitedError,
  NotAuthorizedError, UpstreamError,
} from './errors.js';
import { applyBind, applyStatus, canBind, expireIfDue, isTerminal, type Transition } from './state-machine.js';
import { fingerprintStart, identifier, toUnifyRequest, validateStart, type StartInput } from './start-input.js';
import { StartOutcomeUnknownError, unknownOutcome, WriteAheadStarts, type SendStart } from './write-ahead-start.js';
import { chooseRegion, type ServedRegions } from './region.js';
import type { ProveRegion } from '../prove/regions.js';

/**
 * The domain's entry points: start a flow, refresh its status from Prove, bind, and expire.
 * Every transition is stored, then announced as "flow X changed". Knows nothing of GraphQL.
 */

export interface StartGuard {
  /**
   * Throws RateLimitedError (or another GatewayError) when this start must not reach Prove. A
   * phone-less start has no number yet: only the caller's limits apply.
   */
  admit(phoneNumber: string | undefined, caller: Caller): Promise<StartCharge | void>;
  /**
   * A flow learnt (or changed to) this number from Prove: it counts against the number's limit
   * from now on (the limit of the API key that started it, `keyId`, or the public one).
   */
  learned?(phoneNumber: string, keyId: string | undefined): Promise<void>;
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
  logger: Logger;
  startGuard?: StartGuard;
  /**
   * Wraps every watch (resilience/resumable-flows.ts: a watch that outlives a store outage). Gets
   * a function that starts the plain watch, as often as it needs one.
   */
  wrapWatch?: WrapWatch;
  /** Called once per stored transition, by the instance that stored it (webhooks); awaited, must not throw. */
  onTransition?: (flow: Flow) => Promise<void>;
  now?: () => number;
}

export type WrapWatch = (
  start: (signal: AbortSignal | undefined) => AsyncIterator<Flow>,
  signal: AbortSignal | undefined,
) => AsyncIterableIterator<Flow>;

// 144 random bits; base64url of 18 bytes is 24 characters.
const FLOW_ID = /^[A-Za-z0-9_-]{24}$/;
/**
 * The lease on a flow is short and renewed while its holder works (store/leases.ts): a live holder
 * keeps it through a token fetch, a budget wait and unify-status's retries (20 s at worst), and a
 * dead one frees it within 3 s. A waiter waits for a live holder at most HOLDER_WAIT_MS.
 */
const FLOW_LEASE_MS = 3_000;
const HOLDER_WAIT_MS = 25_000;
const LEASE_POLL_MS = 25;

/**
 * Whether asking Prove's unify-status could tell anything new. Terminal flows never change, and
 * after possession_required only unify-bind (or the clock) moves a flow on: Prove would repeat
 * itself, at the cost of one upstream call from the shared budget.
 */
const customerScope = (caller: Caller): string | undefined => (caller.kind === 'trusted' ? caller.keyId : undefined);

const statusMayChange = (flow: Flow): boolean => !isTerminal(flow.state) && flow.state !== 'POSSESSION_REQUIRED';

export class FlowService {
  private readonly inflight = new Map<string, Promise<Flow>>();
  private readonly now: () => number;
  private readonly starts: WriteAheadStarts;
  /** The lease the current exclusive() work runs under, for commit()'s fence. */
  readonly #fenced = new AsyncLocalStorage<HeldLease>();

  private readonly clients: Partial<Record<ProveRegion, ProveClient>>;
  private readonly served: ServedRegions;

  constructor(private readonly deps: FlowServiceDeps) {
    this.now = deps.now ?? Date.now;
    const regional = deps.regions ?? (deps.prove && { clients: { us: deps.prove }, defaultRegion: 'us' as const });
    const regions = Object.keys(regional?.clients ?? {}) as ProveRegion[];
    if (!regional || regions.length === 0) throw new TypeError('FlowService: a Prove client (prove or regions) is required');
    this.clients = regional.clients;
    this.served = { regions, defaultRegion: regional.defaultRegion };
    this.starts = new WriteAheadStarts({ repo: deps.repo, locks: deps.locks, find: (id) => this.find(id), flowTtlMs: deps.flowTtlMs });
  }

  async start(input: StartInput, caller: Caller): Promise<{ flow: Flow; authToken: string }> {
    const start = validateStart(input, this.deps.phonePolicy, {
      trustedCaller: caller.kind === 'trusted',
      finalTargetOrigins: this.deps.finalTargetOrigins ?? [],
      clientAddress: caller.kind === 'public' ? caller.address : undefined,
    });
    const region = chooseRegion(start.phoneNumber, start.region, this.served);
    const owner = ownerOf(caller);
    // A public caller's ipAddress is the gateway's reading of its address, not its input: a repeat
    // from another address (a phone changing networks) is still the same start.
    const fingerprint = fingerprintStart(caller.kind === 'public' ? { ...start, ipAddress: undefined } : start);
    const replayable = start.clientRequestId !== undefined && mayReplay(caller, start.clientRequestId);

    const request = { clientRequestId: start.clientRequestId, replayable, owner, fingerprint };
    const send: SendStart = (clientRequestId, flowId) => this.createFlow(start, region, caller, clientRequestId, flowId);
    // One start per clientRequestId at a time: the same caller with the same input shares the call
    // in flight; anyone else meets the write-ahead claim (and its refusal) in the store. A start
    // that may not replay shares nothing.
    const flow = replayable
      ? await this.singleFlight(`start:${owner}:${fingerprint}:${start.clientRequestId}`, () => this.starts.start(request, send))
      : await this.starts.start(request, send);
    return { flow, authToken: flow.authToken };
  }

  /** The stored flow with the clock applied, or undefined. Never calls Prove. */
  async find(id: string): Promise<Flow | undefined> {
    if (!FLOW_ID.test(id)) return undefined;
    const stored = await this.deps.repo.get(id);
    if (!stored || !expireIfDue(stored, this.now()).changed) return stored;
    // Expiring is a write like any other: under the flow's lease, on the freshest copy, so it
    // cannot overwrite an outcome another instance is storing at the same moment.
    return this.exclusive(id, async (current) => current);
  }

  async get(id: string): Promise<Flow> {
    const flow = await this.find(id);
    if (!flow) throw new FlowNotFoundError();
    return flow;
  }

  /** Asks Prove for the outcome, unless the flow is already terminal. Concurrent callers share one call. */
  async refresh(id: string): Promise<Flow> {
    const flow = await this.get(id);
    if (!statusMayChange(flow)) return flow;
    return this.exclusive(id, async (current) => {
      if (!statusMayChange(current)) return current;
      const region = this.regionOf(current);
      const outcome = await this.callProve(region, (prove) =>
        prove.unifyStatus({ correlationId: current.correlationId, clientRequestId: current.clientRequestId }),
      );
      return this.record(applyStatus(current, outcome, this.now()), outcome, 'status', current);
    });
  }

  /** Customer-supplied possession: the trusted backend asserts its own check passed. */
  async bind(id: string, phoneNumber: string, caller: Caller, clientRequestId?: string | null): Promise<Flow> {
    if (caller.kind !== 'trusted') throw new NotAuthorizedError();
    const flow = await this.get(id);
    if (flow.state === 'EXPIRED') throw new FlowExpiredError(flow);
    if (!canBind(flow)) throw new BindNotAllowedError(flow.state, flow.possessionType);
    const number = normalisePhoneNumber(phoneNumber, this.deps.phonePolicy);
    identifier('clientRequestId', clientRequestId);
    return this.exclusive(id, async (current) => {
      if (current.state === 'EXPIRED') throw new FlowExpiredError(current);
      if (!canBind(current)) throw new BindNotAllowedError(current.state, current.possessionType);
      const outcome = await this.callProve(this.regionOf(current), (prove) =>
        prove.unifyBind({
          correlationId: current.correlationId,
          phoneNumber: number,
          clientRequestId: clientRequestId ?? current.clientRequestId,
        }),
      );
      return this.record(applyBind(current, outcome, this.now()), outcome, 'bind', current);
    }, 'own');
  }

  /**
   * Deactivates a Prove Key (lost device, account takeover) and forgets it in this API key's
   * per-customer memory, so no later start sends it for registration recovery. Trusted only.
   */
  async revokeDevice(
    deviceId: string,
    caller: Caller,
    clientRequestId?: string | null,
    region?: ProveRegion | null,
  ): Promise<{ deviceId: string; revoked: boolean }> {
    if (caller.kind !== 'trusted') throw new NotAuthorizedError();
    identifier('deviceId', deviceId);
    const requestId = identifier('clientRequestId', clientRequestId) ?? randomUUID();
    // A Prove Key lives in one region. Named: that one. Otherwise the default region, then the
    // other when the default does not know the device (an outage is reported, not skipped).
    const regions = region
      ? [chooseRegion(undefined, region, this.served)]
      : [this.served.defaultRegion, ...this.served.regions.filter((r) => r !== this.served.defaultRegion)];
    let success = false;
    for (const r of regions) {
      ({ success } = await this.callProve(r, (prove) => prove.revokeDevice({ clientRequestId: requestId, deviceId })));
      if (success) break;
    }
    await this.deps.repo.forgetDevice(caller.keyId, deviceId);
    this.deps.logger.info({ revoked: success }, 'prove key revoked');
    return { deviceId, revoked: success };
  }

  /**
   * The flow as it stands, then every stored change, ending after a terminal state. Listens
   * before the first read (and waits until the subscription is in force), then re-reads the store
   * on each notification, so a duplicate or lost message changes nothing; notifications that
   * arrive while a read is under way collapse into one more read. The clock is a source of
   * transitions too: at expiresAt the watcher re-reads, and find() stores and announces EXPIRED.
   *
   * Ends, releasing its listener and timer at once, when the consumer calls return() or when
   * `signal` aborts. The signal matters: a wrapper between the transport and this iterator (an
   * async generator such as plugin-errors' wrapSubscribe) holds a return() back until the next
   * value arrives, which for a quiet flow would be its expiry.
   */
  watch(id: string, signal?: AbortSignal): AsyncIterableIterator<Flow> {
    const start = (inner: AbortSignal | undefined) => new FlowWatch(id, this.#watchSource, inner);
    return this.deps.wrapWatch ? this.deps.wrapWatch(start, signal) : start(signal);
  }

  readonly #watchSource: FlowWatchSource = {
    get: (id) => this.get(id),
    find: (id) => this.find(id),
    listen: (id, onChange) => this.deps.events.listen(flowKey(id), onChange),
    now: () => this.now(),
  };

  /** Sends unify and makes the flow; storing it is the write-ahead start's (write-ahead-start.ts). */
  private async createFlow(
    start: ReturnType<typeof validateStart>,
    region: ProveRegion,
    caller: Caller,
    clientRequestId: string,
    id: string,
  ): Promise<Flow> {
    const charge = await this.deps.startGuard?.admit(start.phoneNumber, caller);
    let started: Awaited<ReturnType<ProveClient['unify']>>;
    try {
      const deviceId = start.deviceId ?? (await this.rememberedDevice(caller, start.clientCustomerId));
      started = await this.callProve(
        region,
        (prove) => prove.unify(toUnifyRequest(start, clientRequestId, deviceId)).catch(unknownOutcome),
        { rateLimitedAsTyped: true },
      );
    } catch (error) {
      // Nothing was sent, so nothing counts against the number; an unknown outcome may have been an SMS.
      if (!(error instanceof StartOutcomeUnknownError) && charge) await charge.refund();
      throw error;
    }
    const now = this.now();
    const flow: Flow = {
      id,
      correlationId: started.correlationId,
      region,
      // Prove may answer without one (the newest SDK types it optional); the flow exists all the same.
      authToken: started.authToken ?? '',
      possessionType: start.possessionType,
      phoneNumber: start.phoneNumber,
      state: 'PENDING',
      evaluation: [],
      rebind: start.rebind,
      // Only what Prove reports: the id sent for registration recovery is the caller's, not a result.
      deviceId: undefined,
      customerScope: customerScope(caller),
      clientHumanId: start.clientHumanId,
      clientRequestId,
      clientCustomerId: start.clientCustomerId,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.deps.flowTtlMs,
      version: 1,
    };
    this.deps.logger.info(
      { flow: logReference(flow.id), region, possessionType: flow.possessionType, phone: flow.phoneNumber && redactPhoneNumber(flow.phoneNumber) },
      'flow started',
    );
    return flow;
  }

  /**
   * Prove Key registration recovery: the device of this customer's last successful flow. A
   * clientCustomerId is the trusted backend's own id, so the memory is kept per API key and public
   * callers (who could name anyone's customer id) get none.
   */
  private async rememberedDevice(caller: Caller, clientCustomerId: string | undefined): Promise<string | undefined> {
    const scope = customerScope(caller);
    return scope && clientCustomerId ? this.deps.repo.lastDevice(scope, clientCustomerId) : undefined;
  }

  /** Stores and announces a transition; side effects of success happen here once. */
  private async record(transition: Transition, outcome: UnifyOutcome, via: 'status' | 'bind', before: Flow): Promise<Flow> {
    const { flow } = await this.commit(transition);
    if (transition.changed) {
      if (flow.phoneNumber && flow.phoneNumber !== before.phoneNumber) await this.deps.startGuard?.learned?.(flow.phoneNumber, flow.customerScope);
      // A failed flow says why (Prove's codes, e.g. 9101, 9100), so an operator need not ask Prove.
      const failure = flow.state === 'FAILED' ? { failureReasons: failureReasonsOf(flow).map((r) => r.code) } : undefined;
      this.deps.logger.info({ flow: logReference(flow.id), state: flow.state, via, success: outcome.success, ...failure }, 'flow changed');
      if ((flow.state === 'VERIFIED' || flow.state === 'BOUND') && flow.deviceId && flow.clientCustomerId && flow.customerScope) {
        await this.deps.repo.rememberDevice(flow.customerScope, flow.clientCustomerId, flow.deviceId);
      }
    }
    return flow;
  }

  private async commit(transition: Transition, lease = this.#fenced.getStore()): Promise<Transition> {
    if (transition.changed) {
      // Fencing: a holder whose lease lapsed (it stalled; someone else may have taken over) does
      // not write, and no one overwrites a newer stored state with an older one.
      if (lease && !lease.kept) throw new UpstreamError(true, undefined, 'This flow was taken over while the gateway waited; try again');
      const stored = await this.deps.repo.get(transition.flow.id);
      if (stored && stored.version >= transition.flow.version) return { flow: stored, changed: false } as Transition;
      await this.deps.repo.save(transition.flow);
      this.deps.events.published(flowKey(transition.flow.id), transition.flow.version);
      await this.deps.onTransition?.(transition.flow);
    }
    return transition;
  }

  /**
   * Runs `work` on the freshest copy of the flow while no one else (in this process or another
   * instance) works on it. Whoever finds the lease taken waits for it and reads the result.
   */
  /**
   * Runs `work` on the freshest copy of the flow (clock applied) while no one else, in this process
   * or another instance, works on it. With 'share', concurrent callers join the call in flight and
   * whoever finds the lease taken reads the holder's result: N status requests make one Prove call.
   * With 'own' (bind), each caller waits its turn and runs its own checks on what the holder left:
   * a second bind must hear BindNotAllowedError, never the first bind's success.
   */
  private exclusive(id: string, work: (flow: Flow) => Promise<Flow>, mode: 'share' | 'own' = 'share'): Promise<Flow> {
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
            if ((fresh.version !== before || waited > 0) && !expireIfDue(fresh, this.now()).changed) return fresh;
          }
          continue;
        }
        try {
          const { flow: current } = await this.commit(expireIfDue(await this.load(id), this.now()), lease);
          return await this.#fenced.run(lease, () => work(current));
        } finally {
          await lease.release();
        }
      }
    };
    return mode === 'share' ? this.singleFlight(`flow:${key}`, run) : run();
  }

  /** The stored record as it is, clock not applied (only exclusive() may apply it: it writes). */
  private async load(id: string): Promise<Flow> {
    const stored = await this.deps.repo.get(id);
    if (!stored) throw new FlowNotFoundError();
    return stored;
  }

  private singleFlight<T extends Flow>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  /** The region a stored flow's session lives in (flows from before regions: the default). */
  private regionOf(flow: Flow): ProveRegion {
    return flow.region ?? this.served.defaultRegion;
  }

  /**
   * Prove's failures in the domain's words. A refused credential is not the client's problem: its
   * callers get a typed, non-retryable UpstreamError that says so; with one region /ready also takes
   * the instance out, with two the instance keeps serving the other region.
   */
  private async callProve<T>(
    region: ProveRegion,
    call: (prove: ProveClient) => Promise<T>,
    options: { rateLimitedAsTyped?: boolean } = {},
  ): Promise<T> {
    const prove = this.clients[region];
    if (!prove) throw new UpstreamError(false, undefined, `This gateway does not serve Prove's ${region.toUpperCase()} region`);
    try {
      return await call(prove);
    } catch (error) {
      if (!(error instanceof ProveError)) throw error;
      if (options.rateLimitedAsTyped && error.kind === 'rate_limited') {
        // A start refused for Prove's budget (ours or Prove's 429) tells the client when to come back.
        throw new RateLimitedError(error.retryAfterSeconds ?? 1);
      }
      if (error.kind === 'invalid_request') {
        throw new InvalidInputError(error.field ?? 'input', `Prove refused the request: ${error.message}`);
      }
      if (error.kind === 'unauthorized') {
        this.deps.logger.error({ endpoint: error.endpoint, status: error.status, region }, 'Prove refused our credentials');
        // The operator's problem, not the client's: a typed answer that says so, not retryable until the
        // configuration is fixed (/ready takes a single-region instance out meanwhile).
        throw new UpstreamError(
          false,
          error.status,
          this.served.regions.length > 1
            ? `Prove's ${region.toUpperCase()} region is not available from this gateway (Prove refused its credentials); the flow is unchanged`
            : "Prove refused the gateway's credentials (its Prove client id and secret): the gateway's operator must fix its configuration; the flow is unchanged",
        );
      }
      this.deps.logger.warn({ endpoint: error.endpoint, kind: error.kind, status: error.status, region }, 'Prove unavailable');
      throw new UpstreamError(true, error.status, `Prove is unavailable (${error.kind}); the flow is unchanged, try again`);
    }
  }
}

