import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { bind, start, started, status, stored, trusted } from '../support/flows.js';
import { getJson } from './support.js';
import { isOutage } from '../../src/resilience/circuit-breaker.js';
import { ProveError, type ProveErrorKind } from '../../src/prove/types.js';

/**
 * Prove misbehaving, endpoint by endpoint, through the public GraphQL API and the emulator's
 * /sim/faults. Each row: what the client sees on each attempt until one succeeds, that the
 * stored flow did not move while Prove failed, that exactly one unify reached Prove's model per
 * flow (no second SMS), and that the flow completes once the fault is over.
 *
 * Adapter settings: 500 ms per attempt, 2.5 s for a unify-status call with its retries. The rows
 * run one after the other: twenty gateways at once on a busy machine made healthy calls miss a
 * short timeout.
 */

type Endpoint = '/v3/unify' | '/v3/unify-status' | '/v3/unify-bind' | '/token';
type Fault = '500 burst (3)' | '429 Retry-After: 1' | 'slow (1.2 s > 500 ms timeout)' | 'dropped connection' | '401 token expiry';

const FAULTS: Record<Exclude<Fault, '401 token expiry'>, Record<string, unknown>> = {
  '500 burst (3)': { status: 500, count: 3 },
  '429 Retry-After: 1': { status: 429, retryAfterSeconds: 1, count: 1 },
  'slow (1.2 s > 500 ms timeout)': { latencyMs: 1200, count: 1 },
  'dropped connection': { drop: true, count: 1 },
};

/** What the client sees, attempt by attempt: "ok" or the typed error (with upstreamStatus). */
const up = (status?: number) => `UpstreamError ${status ?? '-'}`;
const OUTCOME_UNKNOWN = 'UpstreamError (not retryable)';
const MATRIX: Array<[Endpoint, Fault, string[]]> = [
  // unify is never retried by the gateway (a second one is a second SMS): the client retries.
  ['/v3/unify', '500 burst (3)', [up(500), up(500), up(500), 'ok']],
  // A start Prove rate-limits tells the client when to come back (startUnify's union has RateLimitedError).
  ['/v3/unify', '429 Retry-After: 1', ['RateLimitedError 1s', 'ok']],
  // No answer: Prove may have sent the SMS, so a retry with the same clientRequestId is refused
  // for good (never a second unify); the client starts again with a new clientRequestId.
  ['/v3/unify', 'slow (1.2 s > 500 ms timeout)', [up(), OUTCOME_UNKNOWN, 'ok']],
  ['/v3/unify', 'dropped connection', [up(), OUTCOME_UNKNOWN, 'ok']],
  ['/v3/unify', '401 token expiry', ['ok']],
  // unify-status is a read: retried inside its deadline, so the client never notices.
  ['/v3/unify-status', '500 burst (3)', ['ok']],
  ['/v3/unify-status', '429 Retry-After: 1', ['ok']],
  ['/v3/unify-status', 'slow (1.2 s > 500 ms timeout)', ['ok']],
  ['/v3/unify-status', 'dropped connection', ['ok']],
  ['/v3/unify-status', '401 token expiry', ['ok']],
  // unify-bind changes Prove's state: never retried, like unify.
  ['/v3/unify-bind', '500 burst (3)', [up(500), up(500), up(500), 'ok']],
  ['/v3/unify-bind', '429 Retry-After: 1', [up(429), 'ok']],
  ['/v3/unify-bind', 'slow (1.2 s > 500 ms timeout)', [up(), 'ok']],
  ['/v3/unify-bind', 'dropped connection', [up(), 'ok']],
  ['/v3/unify-bind', '401 token expiry', ['ok']],
  // The token expired (revoked) and the token endpoint fails too; seen through startUnify.
  ['/token', '500 burst (3)', [up(500), up(500), up(500), 'ok']],
  ['/token', '429 Retry-After: 1', ['RateLimitedError 1s', 'ok']],
  ['/token', 'slow (1.2 s > 500 ms timeout)', [up(), 'ok']],
  ['/token', 'dropped connection', [up(), 'ok']],
];

type Result = { __typename: string; upstreamStatus?: number | null; retryable?: boolean; retryAfterSeconds?: number };
const seen = (result: Result): string => {
  if (result.__typename === 'UpstreamError') {
    if (!result.retryable) return OUTCOME_UNKNOWN;
    return up(result.upstreamStatus ?? undefined);
  }
  if (result.__typename === 'RateLimitedError') return `RateLimitedError ${result.retryAfterSeconds}s`;
  return result.__typename.endsWith('Payload') ? 'ok' : result.__typename;
};

interface Stats {
  calls: Record<string, number>;
  responses: Record<string, Record<string, number>>;
  unifyPerformed: Record<string, number>;
}
const statsOf = async (gw: TestGateway) => (await gw.sim.stats()) as unknown as Stats;
/** Unify sessions Prove's model created: each one is an SMS (or a push) to a person. */
const unifySessions = (stats: Stats) => stats.responses['/v3/unify']?.['200'] ?? 0;

const gateways: TestGateway[] = [];
const fresh = async (options: Parameters<typeof startGateway>[1] = {}) => {
  const gw = await startGateway({}, { prove: { timeoutMs: 500, statusDeadlineMs: 2_500 }, ...options });
  gateways.push(gw);
  return gw;
};
afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()));
});

const rows: Array<{ endpoint: Endpoint; fault: Fault; sees: string[] }> = [];

describe('fault matrix: every Prove endpoint against every fault', () => {
  it.each(MATRIX)('%s, %s', async (endpoint, fault, expected) => {
    const gw = await fresh();
    const inject = async () => {
      if (fault === '401 token expiry') {
        await fetch(`${gw.emulatorUrl}/sim/revoke-tokens`, { method: 'POST' });
      } else {
        if (endpoint === '/token') await fetch(`${gw.emulatorUrl}/sim/revoke-tokens`, { method: 'POST' });
        await gw.sim.fault({ endpoint, ...FAULTS[fault] });
      }
    };
    // Warm the token so the fault meets a gateway in its steady state, mid-flow.
    expect((await getJson(`${gw.url}/ready`)).body.checks.prove.credentials).toBe('accepted');
    const before = await statsOf(gw);
    const outcomes: string[] = [];
    let flowId: string;
    let starts = 0;

    if (endpoint === '/v3/unify' || endpoint === '/token') {
      // The client retries the start with its same clientRequestId until it gets a flow.
      await inject();
      const requestId = `matrix${endpoint}-${fault}`.replace(/[^A-Za-z0-9/-]+/g, '-');
      let input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014', clientRequestId: requestId };
      let payload: Awaited<ReturnType<typeof started>> | undefined;
      while (!payload && outcomes.length < 6) {
        const result = await start(gw, input);
        outcomes.push(seen(result));
        if (outcomes.at(-1) === OUTCOME_UNKNOWN) input = { ...input, clientRequestId: `${requestId}-again` };
        else starts++;
        if (result.__typename === 'StartUnifyPayload') payload = result;
      }
      expect(payload, `outcomes: ${outcomes}`).toBeDefined();
      flowId = payload!.flow.id;
      await gw.sim.authenticate({ authToken: payload!.authToken, otp: '1234' });
      const done = await status(gw, flowId);
      expect(done.__typename === 'UnifyStatusPayload' && done.flow.state).toBe('VERIFIED');
    } else {
      const bindRow = endpoint === '/v3/unify-bind';
      const { flow, authToken } = await started(gw, { possessionType: bindRow ? 'NONE' : 'MOBILE', phoneNumber: '2001004014' });
      starts = 1;
      flowId = flow.id;
      await gw.sim.authenticate(bindRow ? { authToken } : { authToken, otp: '1234' });
      if (bindRow) {
        const ready = await status(gw, flowId);
        expect(ready.__typename === 'UnifyStatusPayload' && ready.flow.state).toBe('POSSESSION_REQUIRED');
      }
      const held = await stored(gw, flowId);
      await inject();
      let state: string | undefined;
      while (!state && outcomes.length < 6) {
        const result = bindRow ? await bind(gw, flowId, '2001004014', trusted) : await status(gw, flowId);
        outcomes.push(seen(result));
        if (result.__typename === 'BindPhonePayload' || result.__typename === 'UnifyStatusPayload') state = result.flow.state;
        // While Prove fails, the stored flow does not move: same state, same updatedAt.
        else expect(await stored(gw, flowId)).toEqual(held);
      }
      expect(state).toBe(bindRow ? 'BOUND' : 'VERIFIED');
    }

    expect(outcomes).toEqual(expected);
    const after = await statsOf(gw);
    // One flow, one unify that Prove answered; and no clientRequestId ever made Prove act twice
    // (the slow row's first unify was performed too, its answer arriving after the client gave up).
    expect(unifySessions(after) - unifySessions(before)).toBe(1);
    for (const [id, performed] of Object.entries(after.unifyPerformed)) {
      expect(performed - (before.unifyPerformed[id] ?? 0), id).toBeLessThanOrEqual(1);
    }
    // Each start sent unify at most once (a refused repeat sends none), plus once more with a fresh token after Prove refused the
    // first with 401 (without acting on it). With /token failing, a start that has no token sends no unify at all.
    const unifyCalls = (after.calls['/v3/unify'] ?? 0) - (before.calls['/v3/unify'] ?? 0);
    const expectedCalls = endpoint === '/token' ? 2 : endpoint === '/v3/unify' && fault === '401 token expiry' ? starts + 1 : starts;
    expect(unifyCalls).toBe(expectedCalls);
    // The flow is whole and final.
    const final = await stored(gw, flowId);
    expect(final).toMatchObject({ id: flowId, state: endpoint === '/v3/unify-bind' ? 'BOUND' : 'VERIFIED', phoneNumber: '***4014' });
    expect((await getJson(`${gw.url}/ready`)).body.checks.prove.circuit).toBe('closed');
    rows.push({ endpoint, fault, sees: outcomes });
  });
});

describe('circuit breaker', () => {
  it('what counts as Prove being down', () => {
    const error = (kind: ProveErrorKind, status?: number) => new ProveError({ kind, status, endpoint: '/v3/unify', message: kind });
    expect(isOutage(error('unavailable', 503))).toBe(true);
    expect(isOutage(error('unavailable'))).toBe(true); // an unreadable body
    expect(isOutage(error('timeout'))).toBe(true);
    expect(isOutage(error('network'))).toBe(true);
    expect(isOutage(error('rate_limited', 429))).toBe(true); // Prove's own 429
    expect(isOutage(error('rate_limited'))).toBe(false); // our upstream budget's refusal
    expect(isOutage(error('invalid_request', 400))).toBe(false);
    expect(isOutage(error('unauthorized', 401))).toBe(false);
    expect(isOutage(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isOutage(new Error('The client is offline'))).toBe(false); // the store, not Prove
  });

  it('opens after consecutive outage failures, fails fast without calling Prove, probes, and closes when Prove answers', async () => {
    const gw = await fresh({ breaker: { failures: 3, halfOpenAfterMs: 3_000 } });
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004015' };
    const pending = await started(gw, input);
    const calls = async (endpoint: string) => (await statsOf(gw)).calls[endpoint] ?? 0;

    await gw.sim.fault({ endpoint: '/v3/unify', status: 503, count: 1000 });
    for (let i = 0; i < 3; i++) {
      const result = await start(gw, input);
      expect(result.__typename === 'UpstreamError' && result.upstreamStatus).toBe(503);
    }
    expect((await getJson(`${gw.url}/ready`)).body).toMatchObject({ status: 'ready', checks: { prove: { circuit: 'open' } } });
    const metric = async () => /^unify_prove_circuit_state\{region="us"\} (\d)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1];
    expect(await metric()).toBe('1');

    // Open: nothing reaches Prove (no call, so no timeout waited out), the flow stays as it was.
    const unifyBefore = await calls('/v3/unify');
    const statusBefore = await calls('/v3/unify-status');
    for (let i = 0; i < 5; i++) {
      const result = await start(gw, input);
      expect(result).toMatchObject({ __typename: 'UpstreamError', retryable: true, upstreamStatus: null });
    }
    const asked = await status(gw, pending.flow.id);
    expect(asked).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    expect(asked.__typename === 'UpstreamError' && asked.message).toMatch(/unavailable/);
    expect(await calls('/v3/unify')).toBe(unifyBefore);
    expect(await calls('/v3/unify-status')).toBe(statusBefore);
    expect((await stored(gw, pending.flow.id))?.state).toBe('PENDING');

    // Half-open with Prove still failing: one probe goes through, fails, and the circuit opens again.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect((await start(gw, input)).__typename).toBe('UpstreamError');
    expect(await calls('/v3/unify')).toBe(unifyBefore + 1);
    expect((await getJson(`${gw.url}/ready`)).body.checks.prove.circuit).toBe('open');

    // Prove is back: the next probe succeeds and closes the circuit.
    await gw.sim.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const probe = await started(gw, input);
    expect((await getJson(`${gw.url}/ready`)).body.checks.prove.circuit).toBe('closed');
    expect(await metric()).toBe('0');
    await gw.sim.authenticate({ authToken: probe.authToken, otp: '1234' });
    const done = await status(gw, probe.flow.id);
    expect(done.__typename === 'UnifyStatusPayload' && done.flow.state).toBe('VERIFIED');
    await gw.sim.authenticate({ authToken: pending.authToken, otp: '1234' });
    const resumed = await status(gw, pending.flow.id);
    expect(resumed.__typename === 'UnifyStatusPayload' && resumed.flow.state).toBe('VERIFIED');
  });

  it("counts only outages: Prove refusing the request (400) never opens it", async () => {
    const gw = await fresh({ breaker: { failures: 2, halfOpenAfterMs: 60_000 } });
    await gw.sim.fault({ endpoint: '/v3/unify', status: 400, count: 5, body: { code: 1000, message: 'phoneNumber is not valid' } });
    for (let i = 0; i < 5; i++) {
      const result = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'phoneNumber' });
    }
    expect((await statsOf(gw)).calls['/v3/unify']).toBe(5);
    expect((await getJson(`${gw.url}/ready`)).body.checks.prove.circuit).toBe('closed');
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' })).__typename).toBe('StartUnifyPayload');
  });
});

afterAll(() => {
  if (rows.length !== MATRIX.length) return;
  const order = (r: { endpoint: string; fault: string }) => MATRIX.findIndex(([e, f]) => e === r.endpoint && f === r.fault);
  const lines = rows.sort((a, b) => order(a) - order(b)).map((r) => `${r.endpoint.padEnd(17)} ${r.fault.padEnd(30)} ${r.sees.join(' → ')}`);
  console.log(`fault matrix (client sees, attempt by attempt):\n${lines.join('\n')}`);
});
