import { randomUUID } from 'node:crypto';
import type { UnifyOutcome, UnifyStarted } from '../prove/types.js';
import { flowKey } from '../store/flow-repository.js';
import { type Caller, mayReplay, ownerOf } from './caller.js';
import { normalisePhoneNumber, redactPhoneNumber } from './phone.js';
import { failureReasonsOf, type Flow } from './flow.js';
import { logReference } from './log-reference.js';
import { FlowWatch, type FlowWatchSource } from './flow-watch.js';
import { BindNotAllowedError, FlowExpiredError, FlowNotFoundError, NotAuthorizedError } from './errors.js';
import { applyBind, applyStatus, canBind, expireIfDue, isTerminal, type Transition } from './state-machine.js';
import { FlowWrites } from './flow-writes.js';
import { fingerprintStart, identifier, pendingFlow, toUnifyRequest, validateStart, type StartInput } from './start-input.js';
import { StartOutcomeUnknownError, unknownOutcome, WriteAheadStarts, type SendStart } from './write-ahead-start.js';
import { chooseRegion } from './region.js';
import type { ProveRegion } from '../prove/regions.js';
import { RegionalProve } from './regional-prove.js';
import { singleFlight } from '../lib/single-flight.js';
import type { FlowServiceDeps } from './service-deps.js';
import type { HeldLease } from '../store/leases.js';
import type { Log } from '../lib/log.js';

/**
 * The domain's entry points: start a flow, refresh its status from Prove, bind, and expire.
 * Every transition is stored, then announced as "flow X changed". Knows nothing of GraphQL.
 *
 * The calls that write log lines (their own, Prove's, the send limits') take the caller's `log`:
 * the request's, whose lines carry its request id. Reads (find, get) write none.
 */

// 144 random bits; base64url of 18 bytes is 24 characters.
const FLOW_ID = /^[A-Za-z0-9_-]{24}$/;
const customerScope = (caller: Caller): string | undefined => (caller.kind === 'trusted' ? caller.keyId : undefined);

/**
 * Whether asking Prove's unify-status could tell anything new. Terminal flows never change, and
 * after possession_required only unify-bind (or the clock) moves a flow on: Prove would repeat
 * itself, at the cost of one upstream call from the shared budget.
 */
const statusMayChange = (flow: Flow): boolean => !isTerminal(flow.state) && flow.state !== 'POSSESSION_REQUIRED';

export class FlowService {
  /** Starts in flight, by caller, input and clientRequestId. */
  private readonly singleFlight = singleFlight<Flow>();
  private readonly now: () => number;
  private readonly starts: WriteAheadStarts;
  private readonly writes: FlowWrites;

  private readonly prove: RegionalProve;

  constructor(private readonly deps: FlowServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.prove = new RegionalProve(deps.regions ?? (deps.prove && { clients: { us: deps.prove }, defaultRegion: 'us' as const }));
    this.writes = new FlowWrites({ ...deps, now: this.now });
    this.starts = new WriteAheadStarts({ repo: deps.repo, locks: deps.locks, find: (id) => this.find(id), flowTtlMs: deps.flowTtlMs });
  }

  async start(input: StartInput, caller: Caller, log: Log): Promise<{ flow: Flow; authToken: string }> {
    const start = validateStart(input, this.deps.phonePolicy, {
      trustedCaller: caller.kind === 'trusted',
      finalTargetOrigins: this.deps.finalTargetOrigins ?? [],
      clientAddress: caller.kind === 'public' ? caller.address : undefined,
    });
    const region = chooseRegion(start.phoneNumber, start.region, this.prove.served);
    const owner = ownerOf(caller);
    // A public caller's ipAddress is the gateway's reading of its address, not its input: a repeat
    // from another address (a phone changing networks) is still the same start.
    const fingerprint = fingerprintStart(caller.kind === 'public' ? { ...start, ipAddress: undefined } : start);
    const replayable = start.clientRequestId !== undefined && mayReplay(caller, start.clientRequestId);

    const request = { clientRequestId: start.clientRequestId, replayable, owner, fingerprint };
    const send: SendStart = (clientRequestId, flowId) => this.createFlow(start, region, caller, log, clientRequestId, flowId);
    // One start per clientRequestId at a time: the same caller with the same input shares the call
    // in flight; anyone else meets the write-ahead claim (and its refusal) in the store. A start
    // that may not replay shares nothing.
    const flow = replayable
      ? await this.singleFlight.run(`start:${owner}:${fingerprint}:${start.clientRequestId}`, () => this.starts.start(request, send))
      : await this.starts.start(request, send);
    return { flow, authToken: flow.authToken };
  }

  /** The stored flow with the clock applied, or undefined. Never calls Prove. */
  async find(id: string): Promise<Flow | undefined> {
    if (!FLOW_ID.test(id)) return undefined;
    const stored = await this.deps.repo.get(id);
    if (!stored) return this.writes.missing(id);
    if (!expireIfDue(stored, this.now()).changed) return stored;
    // Expiring is a write like any other: under the flow's lease, on the freshest copy, so it
    // cannot overwrite an outcome another instance is storing at the same moment.
    return this.writes.exclusive(id, async (current) => current);
  }

  async get(id: string): Promise<Flow> {
    const flow = await this.find(id);
    if (!flow) throw new FlowNotFoundError();
    return flow;
  }

  /** Asks Prove for the outcome, unless the flow is already terminal. Concurrent callers share one call. */
  async refresh(id: string, log: Log): Promise<Flow> {
    const flow = await this.get(id);
    if (!statusMayChange(flow)) return flow;
    return this.writes.exclusive(id, async (current, lease) => {
      if (!statusMayChange(current)) return current;
      const region = this.prove.regionOf(current);
      const outcome = await this.prove.call(region, log, (prove) =>
        prove.unifyStatus({ correlationId: current.correlationId, clientRequestId: current.clientRequestId }, { log }),
      );
      return this.record(applyStatus(current, outcome, this.now()), outcome, 'status', current, lease, log);
    });
  }

  /** Customer-supplied possession: the trusted backend asserts its own check passed. */
  async bind(id: string, phoneNumber: string, caller: Caller, log: Log, clientRequestId?: string | null): Promise<Flow> {
    if (caller.kind !== 'trusted') throw new NotAuthorizedError();
    const flow = await this.get(id);
    if (flow.state === 'EXPIRED') throw new FlowExpiredError(flow);
    if (!canBind(flow)) throw new BindNotAllowedError(flow.state, flow.possessionType);
    const number = normalisePhoneNumber(phoneNumber, this.deps.phonePolicy);
    identifier('clientRequestId', clientRequestId);
    return this.writes.exclusive(id, async (current, lease) => {
      if (current.state === 'EXPIRED') throw new FlowExpiredError(current);
      if (!canBind(current)) throw new BindNotAllowedError(current.state, current.possessionType);
      const outcome = await this.prove.call(this.prove.regionOf(current), log, (prove) =>
        prove.unifyBind(
          {
            correlationId: current.correlationId,
            phoneNumber: number,
            clientRequestId: clientRequestId ?? current.clientRequestId,
          },
          { log },
        ),
      );
      return this.record(applyBind(current, outcome, this.now()), outcome, 'bind', current, lease, log);
    }, 'own');
  }

  /**
   * Deactivates a Prove Key (lost device, account takeover) and forgets it in this API key's
   * per-customer memory, so no later start sends it for registration recovery. Trusted only.
   */
  async revokeDevice(
    deviceId: string,
    caller: Caller,
    log: Log,
    clientRequestId?: string | null,
    region?: ProveRegion | null,
  ): Promise<{ deviceId: string; revoked: boolean }> {
    if (caller.kind !== 'trusted') throw new NotAuthorizedError();
    identifier('deviceId', deviceId);
    const requestId = identifier('clientRequestId', clientRequestId) ?? randomUUID();
    let success = false;
    for (const r of this.prove.regionsToAsk(region)) {
      ({ success } = await this.prove.call(r, log, (prove) => prove.revokeDevice({ clientRequestId: requestId, deviceId }, { log })));
      if (success) break;
    }
    await this.deps.repo.forgetDevice(caller.keyId, deviceId);
    log.info({ revoked: success }, 'prove key revoked');
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
   * `signal` aborts. The signal matters where the consumer may never call return(), or where a
   * wrapper between the transport and this iterator (an async generator) would hold a return()
   * back until the next value, which for a quiet flow is its expiry: HTTP streams pass their
   * request's signal. graphql-ws passes none: its return() reaches this iterator at once.
   */
  watch(id: string, log: Log, signal?: AbortSignal): AsyncIterableIterator<Flow> {
    const start = (inner: AbortSignal | undefined) => new FlowWatch(id, this.#watchSource, inner);
    return this.deps.wrapWatch ? this.deps.wrapWatch(start, signal, log) : start(signal);
  }

  readonly #watchSource: FlowWatchSource = {
    get: (id) => this.get(id),
    find: (id) => this.find(id),
    listen: (id, onChange) => this.deps.events.listen(flowKey(id), onChange),
    unlisten: (id, onChange) => this.deps.events.unlisten(flowKey(id), onChange),
    now: () => this.now(),
  };

  /** Sends unify and makes the flow; storing it is the write-ahead start's (write-ahead-start.ts). */
  private async createFlow(
    start: ReturnType<typeof validateStart>,
    region: ProveRegion,
    caller: Caller,
    log: Log,
    clientRequestId: string,
    id: string,
  ): Promise<Flow> {
    const charge = await this.deps.startGuard?.admit(start.phoneNumber, caller, log);
    let started: UnifyStarted;
    try {
      const deviceId = start.deviceId ?? (await this.rememberedDevice(caller, start.clientCustomerId));
      started = await this.prove.call(
        region,
        log,
        (prove) => prove.unify(toUnifyRequest(start, clientRequestId, deviceId), { log }).catch(unknownOutcome),
        { rateLimitedAsTyped: true },
      );
    } catch (error) {
      // Nothing was sent, so nothing counts against the number; an unknown outcome may have been an SMS.
      if (!(error instanceof StartOutcomeUnknownError) && charge) await charge.refund();
      throw error;
    }
    const flow = pendingFlow(start, started, { id, region, clientRequestId, customerScope: customerScope(caller), now: this.now(), ttlMs: this.deps.flowTtlMs });
    log.info(
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
  private async record(
    transition: Transition,
    outcome: UnifyOutcome,
    via: 'status' | 'bind',
    before: Flow,
    lease: HeldLease,
    log: Log,
  ): Promise<Flow> {
    const { flow } = await this.writes.commit(transition, lease);
    if (transition.changed) {
      if (flow.phoneNumber && flow.phoneNumber !== before.phoneNumber) await this.deps.startGuard?.learned?.(flow.phoneNumber, flow.customerScope, log);
      // A failed flow says why (Prove's codes, e.g. 9101, 9100), so an operator need not ask Prove.
      const failure = flow.state === 'FAILED' ? { failureReasons: failureReasonsOf(flow).map((r) => r.code) } : undefined;
      log.info({ flow: logReference(flow.id), state: flow.state, via, success: outcome.success, ...failure }, 'flow changed');
      if ((flow.state === 'VERIFIED' || flow.state === 'BOUND') && flow.deviceId && flow.clientCustomerId && flow.customerScope) {
        await this.deps.repo.rememberDevice(flow.customerScope, flow.clientCustomerId, flow.deviceId);
      }
    }
    return flow;
  }
}
