import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { bind, started, status, stored, trusted, verifiedMobile } from '../support/flows.js';
import { eventually } from '../live/support.js';
import { newSecret, startReceiver, type Receiver } from './receiver.js';
import { FAST_RETRIES, acceptedEvents, capturedLogger, metric } from './support.js';

/**
 * Memory mode: one gateway with its embedded emulator, webhooks to a real HTTP receiver on a free
 * port that verifies each request with `standardwebhooks`. Every outcome a flow can reach, and
 * what happens when the receiver refuses, redirects, is gone or is down.
 */

describe('webhooks (memory mode)', () => {
  const secret = newSecret();
  let receiver: Receiver;
  let gw: TestGateway;
  const log = capturedLogger();
  let clockOffset = 0;

  beforeAll(async () => {
    receiver = await startReceiver(secret);
    gw = await startGateway(
      { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, ...FAST_RETRIES },
      { logger: log.logger, now: () => Date.now() + clockOffset },
    );
  });
  afterEach(() => receiver.script([]));
  afterAll(async () => {
    await gw?.close();
    await receiver?.close();
  });

  it('a verified flow is one signed flow.verified with the whole flow, the number in E.164', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018', clientRequestId: 'order-verified', clientCustomerId: 'cust-1' }, trusted);
    const verified = await status(gw, flow.id);
    expect(verified.__typename === 'UnifyStatusPayload' && verified.flow.state).toBe('VERIFIED');

    const [event] = (await acceptedEvents(receiver, 1)).filter((r) => r.verified?.data.flowId === flow.id);
    expect(event).toBeDefined();
    expect(event!.id).toMatch(/^msg_/);
    expect(event!.verified).toMatchObject({
      type: 'flow.verified',
      data: {
        flowId: flow.id,
        state: 'VERIFIED',
        possessionType: 'MOBILE',
        clientRequestId: 'order-verified',
        clientCustomerId: 'cust-1',
        phoneNumber: '+12001004018',
        failureReasons: [],
      },
    });
    const data = event!.verified!.data;
    expect(new Date(event!.verified!.timestamp).toISOString()).toBe(event!.verified!.timestamp);
    expect(Date.parse(data.createdAt)).toBeLessThanOrEqual(Date.parse(data.updatedAt));
    expect('proveId' in data && 'deviceId' in data && 'expiresAt' in data).toBe(true);
  });

  it('the receiver refuses twice, then accepts: delivered once, the same webhook-id each time, one warning per failed attempt', async () => {
    receiver.script([503, 500]);
    const warningsBefore = log.parsed().filter((l) => l.msg?.startsWith('webhook attempt failed')).length;
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
    await status(gw, flow.id);

    await eventually(() => receiver.accepted().some((r) => r.verified?.data.flowId === flow.id), 'the event accepted');
    const attempts = receiver.received.filter((r) => r.verified?.data.flowId === flow.id);
    expect(attempts.map((r) => r.status)).toEqual([503, 500, 204]);
    expect(new Set(attempts.map((r) => r.id)).size).toBe(1);
    // Nothing left to send: no further attempt can come.
    await eventually(async () => (await metric(gw.url, 'unify_webhook_queue_depth')) === 0, 'an empty queue');

    const warnings = log.parsed().filter((l) => l.msg?.startsWith('webhook attempt failed')).slice(warningsBefore);
    expect(warnings.map((w) => [w.level, w.status, w.event])).toEqual([[40, 503, 'flow.verified'], [40, 500, 'flow.verified']]);
    // No body, no number, no flow id, no path of the endpoint in any line.
    const all = log.lines.join('\n');
    expect(all).not.toContain('2001004018');
    expect(all).not.toContain(flow.id);
    expect(all).not.toContain('/hooks/unify');
    expect(all).not.toContain('"data"');
  });

  it('9101 is flow.failed with Prove\'s reasons', async () => {
    const first = await verifiedMobile(gw, '2001004014');
    const other = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', deviceId: first.deviceId! });
    await gw.sim.authenticate({ authToken: other.authToken });
    expect((await status(gw, other.flow.id)).__typename).toBe('ProveKeyMismatchError');

    await eventually(() => receiver.accepted().some((r) => r.verified?.data.flowId === other.flow.id), 'flow.failed accepted');
    const failed = receiver.accepted().find((r) => r.verified?.data.flowId === other.flow.id)!.verified!;
    expect(failed.type).toBe('flow.failed');
    expect(failed.data.state).toBe('FAILED');
    expect(failed.data.failureReasons.map((r: { code: number }) => r.code)).toContain(9101);
    expect(failed.data.failureReasons[0]).toMatchObject({ description: expect.any(String), category: expect.any(String) });
  });

  it('NONE: flow.possession_required, then flow.bound, one event per transition', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004015' });
    await gw.sim.authenticate({ authToken });
    const asked = await status(gw, flow.id);
    expect(asked.__typename === 'UnifyStatusPayload' && asked.flow.state).toBe('POSSESSION_REQUIRED');
    // Asking again changes nothing, and sends nothing.
    await status(gw, flow.id);
    const bound = await bind(gw, flow.id, '2001004015', trusted);
    expect(bound.__typename === 'BindPhonePayload' && bound.flow.state).toBe('BOUND');

    const mine = () => receiver.accepted().filter((r) => r.verified?.data.flowId === flow.id);
    await eventually(() => mine().length === 2, 'two events for the flow');
    expect(mine().map((r) => r.verified!.type).sort()).toEqual(['flow.bound', 'flow.possession_required']);
    expect(new Set(mine().map((r) => r.id)).size).toBe(2);
    expect(mine().find((r) => r.verified!.type === 'flow.bound')!.verified!.data.deviceId).toBeTruthy();
  });

  it('expiry is flow.expired, sent when the clock ends the flow', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    clockOffset += 16 * 60_000;
    try {
      expect((await stored(gw, flow.id))?.state).toBe('EXPIRED');
    } finally {
      clockOffset -= 16 * 60_000;
    }
    await eventually(() => receiver.accepted().some((r) => r.verified?.data.flowId === flow.id), 'flow.expired accepted');
    expect(receiver.accepted().find((r) => r.verified?.data.flowId === flow.id)!.verified!.type).toBe('flow.expired');
  });

  it('a redirect is not followed and not retried', async () => {
    receiver.script([307]);
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
    await status(gw, flow.id);
    await eventually(async () => (await metric(gw.url, 'unify_webhook_deliveries_total', { outcome: 'rejected' })) === 1, 'a rejected delivery');
    expect(await metric(gw.url, 'unify_webhook_queue_depth')).toBe(0);
    expect(receiver.received.filter((r) => r.verified?.data.flowId === flow.id).map((r) => r.status)).toEqual([307]);
  });

  it('while the receiver is down, /ready stays 200 and the event waits; it arrives once the receiver is back', async () => {
    await receiver.down();
    try {
      const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
      await status(gw, flow.id);
      await eventually(
        async () => ((await metric(gw.url, 'unify_webhook_deliveries_total', { event: 'flow.verified', outcome: 'retry' })) ?? 0) >= 3,
        'three failed attempts',
      );
      expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
      expect(await metric(gw.url, 'unify_webhook_queue_depth')).toBe(1);
      expect(await metric(gw.url, 'unify_webhook_oldest_undelivered_age_seconds')).toBeGreaterThan(0);
      // One warning per failed attempt (a log line may be written just after the metric moved).
      await eventually(() => log.parsed().filter((l) => l.reason === 'network error').length >= 3, 'three warnings');

      await receiver.up();
      await eventually(() => receiver.accepted().some((r) => r.verified?.data.flowId === flow.id), 'the event after the outage');
      expect(receiver.accepted().filter((r) => r.verified?.data.flowId === flow.id)).toHaveLength(1);
      await eventually(async () => (await metric(gw.url, 'unify_webhook_oldest_undelivered_age_seconds')) === 0, 'nothing undelivered');
    } finally {
      await receiver.up().catch(() => {});
    }
  });

  it('the library rejects a tampered body, an old timestamp and another secret', async () => {
    const [sample] = receiver.accepted();
    const headers = { 'webhook-id': sample!.id, 'webhook-timestamp': sample!.timestamp, 'webhook-signature': sample!.signature };
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(sample!.body, headers)).not.toThrow();
    expect(() => verifier.verify(sample!.body.replace('"state":"', '"state":"X'), headers)).toThrow(/signature/i);
    expect(() => verifier.verify(sample!.body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(/signature/i);
    const old = String(Number(sample!.timestamp) - 10 * 60);
    expect(() => verifier.verify(sample!.body, { ...headers, 'webhook-timestamp': old })).toThrow(/too old/i);
    expect(() => new Webhook(newSecret()).verify(sample!.body, headers)).toThrow(/signature/i);
  });
});

describe('webhooks: several endpoints and secrets', () => {
  it('each endpoint gets each event; 410 disables that endpoint only; both secrets of a rotation verify', async () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const gone = await startReceiver(oldSecret);
    const live = await startReceiver(newOne);
    gone.script([410]);
    const gw = await startGateway({ WEBHOOK_URL: `${gone.url},${live.url}`, WEBHOOK_SECRET: `${oldSecret} ${newOne}`, ...FAST_RETRIES });
    try {
      for (let i = 0; i < 2; i++) {
        const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
        await status(gw, flow.id);
        await eventually(() => live.accepted().some((r) => r.verified?.data.flowId === flow.id), `event ${i} at the live endpoint`);
      }
      expect(live.accepted()).toHaveLength(2);
      // The endpoint that answered 410 heard the first event (verified with the old secret) and nothing after.
      expect(gone.received.map((r) => [r.status, Boolean(r.verified)])).toEqual([[410, true]]);
      expect(await metric(gw.url, 'unify_webhook_deliveries_total', { outcome: 'gone' })).toBe(1);
      expect(await metric(gw.url, 'unify_webhook_deliveries_total', { outcome: 'disabled' })).toBe(1);
      expect(live.accepted()[0]!.signature.split(' ')).toHaveLength(2);
    } finally {
      await gw.close();
      await gone.close();
      await live.close();
    }
  });
});
