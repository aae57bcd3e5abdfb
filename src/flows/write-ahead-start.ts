import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { ProveError } from '../prove/types.js';
import { requestKey, type FlowRepository, type RequestClaim } from '../store/flow-repository.js';
import { randomToken } from '../lib/random-token.js';
import type { Locks } from '../store/locks.js';
import { takeLease, waitWhileHeld } from '../store/leases.js';
import type { Flow } from './flow.js';
import { InvalidInputError, UpstreamError } from './errors.js';

/**
 * A start is written ahead, because /v3/unify sends an SMS and cannot be undone:
 *
 * 1. under a short lease on the clientRequestId (renewed while the start is under way), the start
 *    is reserved in the store: a claim naming the flow id it will have. If the store cannot take
 *    it, Prove is not called.
 * 2. unify is sent.
 * 3. Prove's answer is stored (flow, then the claim as 'started'). If the store refuses now, the
 *    answer is kept in memory and written again until it lands (store/unsaved-starts.ts), and the
 *    caller gets its flow.
 *
 * A start with the same clientRequestId never sends a second unify while the first one's outcome
 * is open or unknown: it waits for the first (the lease), then answers with the stored flow, or
 * with UpstreamError — retryable while the first start is still being stored, not retryable when
 * unify went out and no answer came back (Prove may have sent the SMS; nobody can tell), or when
 * the instance that sent it died before storing the answer (its reservation left without a holder).
 */

/** The start lease: short, renewed while held, so a dead holder frees it in seconds. */
export const START_LEASE_MS = 3_000;
/** How long a repeated start waits for the first one before answering "still in progress". */
const REPEAT_WAIT_MS = 10_000;
/**
 * How long a reservation nobody holds may wait for its answer to be stored before its outcome is
 * settled as unknown: an instance that kept Prove's answer through a store outage reconnects and
 * writes it within a few seconds (2 s reconnect backoff, 2 s retry backoff at most), on a busy host too.
 */
const ORPHAN_GRACE_MS = 10_000;

/** unify was sent and its answer is unknown: Prove may have acted on it. */
export class StartOutcomeUnknownError extends UpstreamError {
  readonly outcomeUnknown = true;
  constructor(cause: unknown) {
    super(true, undefined, 'Prove did not answer the start in time; it may have sent the SMS, which is not sent again for this clientRequestId');
    (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * For unify: turns a failure that leaves Prove's side unknown (no answer, or an answer we could
 * not read) into StartOutcomeUnknownError; every other failure is a refusal, nothing was sent.
 */
export function unknownOutcome(error: unknown): never {
  if (
    error instanceof ProveError &&
    error.endpoint === '/v3/unify' &&
    (error.kind === 'timeout' || error.kind === 'network' || (error.kind === 'unavailable' && error.status !== undefined && error.status < 300))
  ) {
    throw new StartOutcomeUnknownError(error);
  }
  throw error;
}

export interface WriteAheadStartDeps {
  repo: FlowRepository;
  locks: Locks;
  /** The stored flow with the clock applied (FlowService.find). */
  find(id: string): Promise<Flow | undefined>;
  flowTtlMs: number;
  leaseMs?: number;
  repeatWaitMs?: number;
  orphanGraceMs?: number;
}

export interface StartClaim {
  /** The caller's idempotency key, or none (a fresh one is made). */
  clientRequestId: string | undefined;
  /**
   * Whether a repeat may be answered with the flow (flows/caller.ts mayReplay). When not, a repeat
   * still never sends a second unify: it is refused.
   */
  replayable: boolean;
  owner: string;
  fingerprint: string;
}

/** Sends unify for this clientRequestId and returns the new flow, with `flowId`, not yet stored. */
export type SendStart = (clientRequestId: string, flowId: string) => Promise<Flow>;

export class WriteAheadStarts {
  constructor(private readonly deps: WriteAheadStartDeps) {}

  async start(request: StartClaim, send: SendStart): Promise<Flow> {
    const { repo, locks } = this.deps;
    const given = request.clientRequestId;
    const clientRequestId = given ?? randomUUID();
    if (given) {
      const repeat = await this.repeatOf(given, request);
      if (repeat) return repeat;
    }
    const leaseName = `start:${requestKey(clientRequestId)}`;
    for (;;) {
      const lease = await takeLease(locks, leaseName, this.deps.leaseMs ?? START_LEASE_MS);
      if (!lease) {
        // The same start is under way (here or on another instance): its outcome is this one's.
        const freed = await waitWhileHeld(locks, leaseName, this.deps.repeatWaitMs ?? REPEAT_WAIT_MS);
        const repeat = given ? await this.repeatOf(given, request) : undefined;
        if (repeat) return repeat;
        if (!freed) throw inProgress();
        continue;
      }
      try {
        if (given) {
          const repeat = await this.repeatOf(given, request, false);
          if (repeat) return repeat;
        }
        const flowId = randomToken(18);
        const claim: RequestClaim = { owner: request.owner, input: request.fingerprint, flowId, state: 'reserved' };
        // Written ahead: if the store cannot take this, the error ends the start before Prove is
        // called. The flow id's mark says to readers elsewhere that this flow is on its way.
        await Promise.all([repo.reserveFlow(flowId, this.deps.flowTtlMs), repo.saveRequest(clientRequestId, claim, this.deps.flowTtlMs)]);
        let flow: Flow;
        try {
          flow = await send(clientRequestId, flowId);
        } catch (error) {
          // A claim left 'reserved' with no lease reads as "outcome not known yet" to every
          // retry, so what came of the call is written, and written again if the store is away.
          if (error instanceof StartOutcomeUnknownError) {
            await untilStored(() => repo.saveRequest(clientRequestId, { ...claim, state: 'unknown' }, this.deps.flowTtlMs));
          } else {
            await untilStored(async () => {
              await repo.forgetRequest(clientRequestId);
              await repo.forgetReservation(flowId);
            });
          }
          throw error;
        }
        await repo.saveStarted({ flow, clientRequestId, claim: { ...claim, state: 'started' } });
        return flow;
      } finally {
        await lease.release();
      }
    }
  }

  /**
   * What an earlier start with this clientRequestId came to, for the same caller and input:
   * its flow, or a typed error while (or because) its outcome is not known. Undefined when there
   * was none (or its flow expired, which frees the id). Refuses anyone else without telling
   * anything about the first flow.
   */
  private async repeatOf(clientRequestId: string, request: StartClaim, mayWait = true): Promise<Flow | undefined> {
    const claim = await this.deps.repo.findRequest(clientRequestId);
    if (!claim) return undefined;
    if (claim.owner !== request.owner || claim.input !== request.fingerprint) {
      // Its authToken must not leak to whoever guessed the id.
      throw new InvalidInputError('clientRequestId', 'This clientRequestId was already used for a different request');
    }
    switch (claim.state ?? 'started') {
      case 'started': {
        const flow = await this.deps.find(claim.flowId);
        if (!flow) throw vanished();
        // Only an expired flow frees the id.
        if (flow.state === 'EXPIRED') return undefined;
        if (!request.replayable) {
          throw new InvalidInputError(
            'clientRequestId',
            'This clientRequestId was already used. A public caller gets its flow back only for an unguessable clientRequestId (a UUID v4, or 32 or more random characters); start with a new one',
          );
        }
        // A finished flow is still this request's answer.
        return flow;
      }
      case 'unknown':
        throw outcomeUnknown();
      default: {
        if (!mayWait) throw inProgress();
        // Reserved: the first start is at Prove, or its answer is on the way to the store.
        const leaseName = `start:${requestKey(clientRequestId)}`;
        const freed = await waitWhileHeld(this.deps.locks, leaseName, this.deps.repeatWaitMs ?? REPEAT_WAIT_MS);
        const now = await this.deps.repo.findRequest(clientRequestId);
        if (now && now.state !== 'reserved') return this.repeatOf(clientRequestId, request, false);
        if (now && freed) return this.settleOrphaned(clientRequestId, request, now, leaseName);
        throw inProgress();
      }
    }
  }

  /**
   * A reservation nobody holds a lease on: its instance died between reserving and storing Prove's
   * answer, or keeps that answer in memory until the store takes it again (it writes it within
   * seconds of the store answering). Under the start's lease, waits that long for such a write;
   * then settles the outcome as unknown (Prove may have sent the SMS). Never a second unify, and
   * not "in progress" for the reservation's whole life.
   */
  private async settleOrphaned(clientRequestId: string, request: StartClaim, claim: RequestClaim, leaseName: string): Promise<Flow | undefined> {
    const lease = await takeLease(this.deps.locks, leaseName, this.deps.leaseMs ?? START_LEASE_MS);
    if (!lease) throw inProgress();
    let settled: RequestClaim | undefined = claim;
    try {
      const until = Date.now() + (this.deps.orphanGraceMs ?? ORPHAN_GRACE_MS);
      while (settled?.state === 'reserved' && Date.now() < until) {
        await sleep(100);
        settled = await this.deps.repo.findRequest(clientRequestId);
      }
      if (settled?.state === 'reserved') {
        await this.deps.repo.saveRequest(clientRequestId, { ...claim, state: 'unknown' }, this.deps.flowTtlMs);
        throw outcomeUnknown();
      }
    } finally {
      await lease.release();
    }
    return this.repeatOf(clientRequestId, request, false);
  }
}

const outcomeUnknown = () =>
  new UpstreamError(
    false,
    undefined,
    'The first start with this clientRequestId got no answer from Prove; it may have sent the SMS, so it is not sent again. Start with a new clientRequestId if the person received nothing',
  );

/**
 * Writes now; if the store refuses, again in the background with backoff for a minute (a
 * Redis restart), without holding the caller's answer back.
 */
const storeRetries = retry(handleAll, { maxAttempts: 30, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) });
async function untilStored(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch {
    void storeRetries.execute(write).catch(() => {});
  }
}

const inProgress = () =>
  new UpstreamError(true, undefined, 'A start with this clientRequestId is still in progress; no second SMS is sent. Try again shortly');

// Without persistence a Redis restart loses flows; the claim outlived it (or came back alone).
const vanished = () =>
  new UpstreamError(
    false,
    undefined,
    'The flow this clientRequestId started is no longer in the store; it is not started again. Start with a new clientRequestId',
  );
