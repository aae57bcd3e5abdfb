import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { status, stored } from '../support/flows.js';
import { liveClient, startSharedProve, stateOf, watchWs, wsUrl, type SharedProve, type Watch } from '../live/support.js';
import { post, reap, redisServerBin, sleep, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from './support.js';

/**
 * Two instances on one Redis, one of them the real `src/main.ts` in a child process, killed with
 * SIGKILL mid-flow: no shutdown, no goodbye. Everything it knew lives in Redis, so the flow
 * completes through the other instance; its WebSocket client reconnects there and resubscribes;
 * a start it was sending to Prove when it died is sent again by the client, to the survivor.
 */

const bin = redisServerBin();

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) {
  __typename ... on StartUnifyPayload { authToken flow { id state } } ... on Error { code message } } }`;

describe.skipIf(!bin)('SIGKILL of one instance mid-flow (Redis mode)', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: ChildGateway | undefined;
  let b: TestGateway;
  const clients: Client[] = [];
  const watches: Watch[] = [];

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!), startSharedProve()]);
    [a, b] = await Promise.all([
      spawnGateway({ REDIS_URL: redis.url, ...prove.env }),
      startGateway({ REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env }),
    ]);
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await reap(a);
    await b?.close();
    await prove?.close();
    await redis?.close();
  });

  it('the flow started through the killed instance completes through the other', async () => {
    const input = { possessionType: 'MOBILE', phoneNumber: '2001004014' };
    const first = await post(a!.graphqlUrl, START, { input });
    const { flow, authToken } = first.body.data.startUnify;
    expect(flow.state).toBe('PENDING');

    // A front end behind a load balancer: connected to A; after A is gone, the balancer sends it to B.
    let target = a!.graphqlUrl;
    const failover = createClient({
      url: () => wsUrl(target),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 10,
      retryWait: async () => void (await sleep(50)),
      on: { closed: () => void (target = b.graphqlUrl) },
    });
    clients.push(failover);
    const onFailover = watchWs(failover, flow.id);
    const plain = liveClient(b.graphqlUrl);
    clients.push(plain);
    const onB = watchWs(plain, flow.id);
    watches.push(onFailover, onB);
    expect(stateOf(await onFailover.event(0))).toBe('PENDING');
    expect(stateOf(await onB.event(0))).toBe('PENDING');

    // A second person's start is in flight through A (Prove answers slowly) when A dies.
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 800, count: 1 });
    const unifyCalls = (await prove.sim.stats()).calls['/v3/unify'];
    const cutOff = post(a!.graphqlUrl, START, { input: { possessionType: 'MOBILE', phoneNumber: '2001004015' } }).then(
      () => 'answered',
      () => 'connection lost',
    );
    while ((await prove.sim.stats()).calls['/v3/unify'] === unifyCalls) await sleep(10);

    a!.proc.kill('SIGKILL');
    expect(await a!.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await cutOff).toBe('connection lost');

    // The client sends its start again; the survivor answers it.
    const retried = await post(b.graphqlUrl, START, { input: { possessionType: 'MOBILE', phoneNumber: '2001004015' } });
    const second = retried.body.data.startUnify;
    expect(second.__typename).toBe('StartUnifyPayload');

    // The resubscribed client gets the flow as it stands from B first (the PENDING it already had).
    expect(stateOf(await onFailover.event(1))).toBe('PENDING');

    // The device finishes; the front end asks B.
    await prove.sim.authenticate({ authToken, otp: '1234' });
    const done = await status(b, flow.id);
    expect(done.__typename === 'UnifyStatusPayload' && done.flow.state).toBe('VERIFIED');
    expect(await onFailover.ended).toEqual({ how: 'complete' });
    expect(onFailover.events.map(stateOf)).toEqual(['PENDING', 'PENDING', 'VERIFIED']);
    expect(await onB.ended).toEqual({ how: 'complete' });
    expect(onB.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
    expect((await stored(b, flow.id))?.state).toBe('VERIFIED');

    await prove.sim.authenticate({ authToken: second.authToken, otp: '1234' });
    const secondDone = await status(b, second.flow.id);
    expect(secondDone.__typename === 'UnifyStatusPayload' && secondDone.flow.state).toBe('VERIFIED');

    // The start that died with A never reached Prove's model (the emulator saw its caller gone): one SMS per person.
    await sleep(900);
    const stats = (await prove.sim.stats()) as unknown as { responses: Record<string, Record<string, number>> };
    expect(stats.responses['/v3/unify']?.['200']).toBe(2);
  });
});
