import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startSharedProve, type SharedProve } from '../live/support.js';
import { freePort, getJson, post } from './support.js';

/**
 * /health is the process; /ready is "send me traffic": store reachable, Prove credentials
 * accepted, not draining — with a JSON body that names what is wrong. Prove being unreachable is
 * reported but is not a reason to leave the load balancer (every instance shares that Prove).
 */

const gateways: TestGateway[] = [];
const provers: SharedProve[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()));
  await Promise.all(provers.map((p) => p.close()));
});
const gateway = async (env: Record<string, string> = {}) => {
  const gw = await startGateway(env);
  gateways.push(gw);
  return gw;
};
const emulator = async () => {
  const prove = await startSharedProve();
  provers.push(prove);
  return prove;
};

describe('/health and /ready', () => {
  it('a healthy gateway: alive, and ready with every check named', async () => {
    const prove = await emulator();
    const gw = await gateway(prove.env);
    expect(await getJson(`${gw.url}/health`)).toEqual({ status: 200, body: { status: 'ok', draining: false } });
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready).toEqual({
      status: 200,
      body: {
        status: 'ready',
        problems: [],
        warnings: [],
        checks: {
          draining: false,
          store: { ok: true, kind: 'memory' },
          // The single-region variables serve the default region, the only one here.
          prove: {
            ok: true,
            credentials: 'accepted',
            circuit: 'closed',
            defaultRegion: 'us',
            regions: { us: { ok: true, credentials: 'accepted', circuit: 'closed' } },
          },
        },
      },
    });
    // Cheap to poll: the credential check is one token, reused.
    for (let i = 0; i < 20; i++) expect((await getJson(`${gw.url}/ready`)).status).toBe(200);
    expect((await prove.sim.stats()).tokensIssued).toBe(1);
  });

  it('refused Prove credentials: not ready, and the body says why; a start is an UpstreamError naming the credentials', async () => {
    const prove = await emulator();
    const gw = await gateway({ ...prove.env, PROVE_CLIENT_SECRET: 'not-the-secret' });
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not ready', checks: { prove: { ok: false, credentials: 'refused' } } });
    expect(ready.body.problems.join('\n')).toMatch(/^prove: credentials refused/m);
    expect(JSON.stringify(ready.body)).not.toContain('not-the-secret');

    const started = await post(gw.graphqlUrl, 'mutation { startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014" }) { __typename ... on UpstreamError { code message retryable } } }');
    expect(started.body.errors).toBeUndefined();
    expect(started.body.data.startUnify).toMatchObject({ __typename: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE', retryable: false });
    expect(started.body.data.startUnify.message).toMatch(/refused the gateway's credentials/);
    // Polling /ready does not hammer Prove's token endpoint while the secret is wrong.
    for (let i = 0; i < 20; i++) expect((await getJson(`${gw.url}/ready`)).status).toBe(503);
    expect((await prove.sim.stats()).calls['/token']).toBeLessThanOrEqual(3);
  });

  it('Prove unreachable: still ready (it is every instance\'s Prove), with the problem reported', async () => {
    const port = await freePort();
    const gw = await gateway({ PROVE_BASE_URL: `http://127.0.0.1:${port}`, PROVE_CLIENT_ID: 'x', PROVE_CLIENT_SECRET: 'y' });
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.prove).toMatchObject({ ok: true, credentials: 'unknown', circuit: 'closed' });
    expect(ready.body.checks.prove.error).toMatch(/ECONNREFUSED|Could not reach/);
  });

  it('draining (in process): not ready, still alive, new GraphQL refused with a retryable 503, the request in flight answered', async () => {
    const gw = await gateway();
    await gw.sim.fault({ endpoint: '/v3/unify', latencyMs: 600, count: 1 });
    const inFlight = post(gw.graphqlUrl, 'mutation { startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014" }) { __typename } }');
    while ((await gw.sim.stats()).calls['/v3/unify'] === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = gw.shutdown(5_000);
    expect(await getJson(`${gw.url}/ready`)).toMatchObject({ status: 503, body: { status: 'draining', checks: { draining: true } } });
    expect(await getJson(`${gw.url}/health`)).toEqual({ status: 200, body: { status: 'ok', draining: true } });
    const refused = await post(gw.graphqlUrl, '{ __typename }');
    expect(refused.status).toBe(503);
    expect(refused.body.errors[0].extensions.code).toBe('SHUTTING_DOWN');
    expect((await inFlight).body.data.startUnify.__typename).toBe('StartUnifyPayload');
    expect(await closing).toMatchObject({ drained: true, cut: 0 });
  });
});
