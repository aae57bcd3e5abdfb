import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { bind, started, status, stored, trusted } from '../support/flows.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { flowChannel } from '../../src/events/flow-events.js';
import {
  eventually, liveClient, sharedRedis, startSharedProve, stateOf, watchSse, watchWs, type SharedProve, type Watch,
} from '../live/support.js';

/**
 * Two gateway instances on one Redis, one Prove (a standalone emulator), as behind a load
 * balancer: whatever instance a status page is connected to hears what happened on the other.
 */

const base = await sharedRedis();
// A database of its own: the upstream budget and send limits live in Redis under fixed keys.
const REDIS_URL = base ? `${base.replace(/\/\d*$/, '')}/11` : '';

describe.skipIf(!base)('two instances on one Redis', () => {
  let prove: SharedProve;
  let admin: Redis;
  let a: TestGateway;
  let b: TestGateway;
  let clients: Client[] = [];
  const watches: Watch[] = [];
  const track = (w: Watch) => (watches.push(w), w);
  const clientOf = (gw: TestGateway) => {
    const client = liveClient(gw.graphqlUrl);
    clients.push(client);
    return client;
  };
  const instance = (extra: Record<string, string> = {}) =>
    startGateway({ REDIS_URL, PROVE_RATE_LIMIT: '10000', ...prove.env, ...extra });
  const subscribers = async (flowId: string) => Number((await admin.pubsub('NUMSUB', flowChannel(flowKey(flowId))))[1]);

  beforeAll(async () => {
    prove = await startSharedProve();
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    admin?.disconnect();
    await prove?.close();
  });
  /** Both instances, fresh for every test (and closed after it), with these settings. */
  const useInstances = (extra: Record<string, string> = {}) =>
    beforeEach(async () => {
      [a, b] = await Promise.all([instance(extra), instance(extra)]);
      // Sandbox numbers are accepted against a PROVE_BASE_URL target (not prod): the fixture is right.
      expect(a.config.prove).toMatchObject({ mode: 'remote', sandbox: true });
    });
  afterEach(async () => {
    for (const w of watches.splice(0)) w.stop();
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await Promise.all([a?.close(), b?.close()]);
  });

  describe('default windows', () => {
    useInstances();

    it('subscribed on A, started and finished through B: A delivers PENDING then VERIFIED, and lets go of the channel', async () => {
      const { flow, authToken } = await started(b, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      const onA = track(watchWs(clientOf(a), flow.id));
      const sseOnA = track(watchSse(a.graphqlUrl, flow.id));
      expect(stateOf(await onA.event(0))).toBe('PENDING');
      expect(stateOf(await sseOnA.event(0))).toBe('PENDING');
      // One Redis subscription for the instance, however many local subscribers.
      expect(await subscribers(flow.id)).toBe(1);

      await prove.sim.authenticate({ authToken, otp: '1234' });
      expect((await status(b, flow.id)).__typename).toBe('UnifyStatusPayload');

      for (const watch of [onA, sseOnA]) {
        expect(await watch.ended).toEqual({ how: 'complete' });
        expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
      }
      await eventually(async () => (await subscribers(flow.id)) === 0, 'A to unsubscribe the flow channel');
      expect(a.liveStats().flowListeners).toBe(0);
    });

    it('A stops mid-flow; the client reconnects to B and gets the current state first, then the terminal event', async () => {
      const { flow, authToken } = await started(a, { possessionType: 'NONE', phoneNumber: '2001004014' });
      const first = track(watchWs(clientOf(a), flow.id));
      const firstSse = track(watchSse(a.graphqlUrl, flow.id));
      expect(stateOf(await first.event(0))).toBe('PENDING');
      expect(stateOf(await firstSse.event(0))).toBe('PENDING');

      await a.close();
      // Both see the connection go (WebSocket close 1001, the event stream cut), not a completion.
      const lost = await first.ended;
      expect(lost.how).toBe('error');
      expect(lost.how === 'error' && (lost.error as { code?: number }).code).toBe(1001);
      expect((await firstSse.ended).how).toBe('error');

      // While the client is away the flow moves on (through B): no one was listening for it.
      await prove.sim.authenticate({ authToken });
      const moved = await status(b, flow.id);
      expect(moved.__typename === 'UnifyStatusPayload' && moved.flow.state).toBe('POSSESSION_REQUIRED');

      const again = track(watchWs(clientOf(b), flow.id));
      const againSse = track(watchSse(b.graphqlUrl, flow.id));
      expect(stateOf(await again.event(0))).toBe('POSSESSION_REQUIRED');
      expect(stateOf(await againSse.event(0))).toBe('POSSESSION_REQUIRED');
      const bound = await bind(b, flow.id, '2001004014', trusted);
      expect(bound.__typename).toBe('BindPhonePayload');
      for (const watch of [again, againSse]) {
        expect(await watch.ended).toEqual({ how: 'complete' });
        expect(watch.events.map(stateOf)).toEqual(['POSSESSION_REQUIRED', 'BOUND']);
      }
    });

    it('9101 through B reaches a subscriber on A as ProveKeyMismatchError', async () => {
      const first = await started(a, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      await prove.sim.authenticate({ authToken: first.authToken, otp: '1234' });
      const verified = await status(a, first.flow.id);
      const deviceId = verified.__typename === 'UnifyStatusPayload' ? verified.flow.deviceId! : '';

      const other = await started(b, { possessionType: 'MOBILE', phoneNumber: '2001004015', deviceId });
      const onA = track(watchWs(clientOf(a), other.flow.id));
      await onA.event(0);
      await prove.sim.authenticate({ authToken: other.authToken });
      await status(b, other.flow.id);
      expect(await onA.ended).toEqual({ how: 'complete' });
      expect(onA.events.map(stateOf)).toEqual(['PENDING', 'ProveKeyMismatchError']);
      expect(onA.events[1]).toMatchObject({ upstreamCode: 9101, rebindRequired: true });
    });

    it('single-flight across instances: 20 concurrent unifyStatus calls split over A and B make one upstream unify-status call', async () => {
      const { flow, authToken } = await started(a, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      await prove.sim.authenticate({ authToken, otp: '1234' });
      await prove.sim.resetStats();

      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => status(i % 2 ? b : a, flow.id)));
      expect(results.map((r) => r.__typename === 'UnifyStatusPayload' && r.flow.state)).toEqual(Array(20).fill('VERIFIED'));
      expect((await prove.sim.stats()).calls['/v3/unify-status']).toBe(1);
    });
  });

  describe('flows that live 1 s (FLOW_TTL)', () => {
    useInstances({ FLOW_TTL: '1s' });

    it('expiry with nothing else happening: subscribers on both instances get exactly one FlowExpiredError', async () => {
      const { flow } = await started(a, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      const onA = track(watchWs(clientOf(a), flow.id));
      const onB = track(watchWs(clientOf(b), flow.id));
      const sseOnB = track(watchSse(b.graphqlUrl, flow.id));
      for (const watch of [onA, onB, sseOnB]) {
        expect(await watch.ended).toEqual({ how: 'complete' });
        expect(watch.events.map(stateOf)).toEqual(['PENDING', 'FlowExpiredError']);
      }
      expect((await stored(b, flow.id))?.state).toBe('EXPIRED');
    });
  });
});
