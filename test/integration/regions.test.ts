import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProveEmulator, type ProveEmulator } from '../../src/emulator/index.js';
import { emulatorClient, startGateway, TEST_API_KEY, type EmulatorClient, type TestGateway } from '../support/gateway.js';

/**
 * Both Prove regions in one gateway, against two real emulators over HTTP: one stands for Prove's
 * US hosts, the other for its EU hosts, each with its own credentials. A start goes to its number's
 * region (or the one named, for a phone-less start), the flow stays there for status and bind,
 * and each region has its own token, budget and circuit breaker.
 */

const US_CREDENTIALS = { clientId: 'us-client-id', clientSecret: 'us-secret-0123456789' };
const EU_CREDENTIALS = { clientId: 'eu-client-id', clientSecret: 'eu-secret-0123456789' };

interface Region {
  emulator: ProveEmulator;
  server: { url: string; close(): Promise<void> };
  sim: EmulatorClient;
  base: string;
  stats(): Promise<any>;
}

async function region(name: 'us' | 'eu'): Promise<Region> {
  // Each instance's other door gets credentials nobody has: a call that reached it would fail loudly.
  const other = name === 'us' ? 'eu' : 'us';
  const emulator = createProveEmulator({
    clientId: `root-${name}`,
    clientSecret: 'nobody-has-this-secret',
    rateLimitPerSecond: 0,
    regions: { [name]: name === 'us' ? US_CREDENTIALS : EU_CREDENTIALS, [other]: { clientId: 'nobody', clientSecret: 'nobody-has-this-secret' } },
  });
  const server = await emulator.listen({ port: 0 });
  const sim = emulatorClient(server.url);
  return { emulator, server, sim, base: `${server.url}/${name}`, stats: () => sim.stats() as Promise<any> };
}

const envFor = (us: Region, eu: Region, overrides: Record<string, string> = {}) => ({
  PROVE_US_BASE_URL: us.base,
  PROVE_US_CLIENT_ID: US_CREDENTIALS.clientId,
  PROVE_US_CLIENT_SECRET: US_CREDENTIALS.clientSecret,
  PROVE_EU_BASE_URL: eu.base,
  PROVE_EU_CLIENT_ID: EU_CREDENTIALS.clientId,
  PROVE_EU_CLIENT_SECRET: EU_CREDENTIALS.clientSecret,
  ...overrides,
});

const FLOW = 'id state region phoneNumber deviceId';
const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) {
  __typename
  ... on StartUnifyPayload { authToken flow { ${FLOW} } }
  ... on InvalidInputError { field message }
  ... on UpstreamError { retryable upstreamStatus message }
} }`;
const STATUS = `query($id: ID!) { unifyStatus(flowId: $id) {
  __typename
  ... on UnifyStatusPayload { flow { ${FLOW} } }
  ... on UpstreamError { retryable message }
} }`;
const BIND = `mutation($input: BindPhoneInput!) { bindPhone(input: $input) {
  __typename
  ... on BindPhonePayload { flow { ${FLOW} } }
} }`;
const REVOKE = `mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) {
  __typename
  ... on RevokeDevicePayload { deviceId revoked }
  ... on InvalidInputError { field }
} }`;

async function gql(gw: TestGateway, query: string, variables: Record<string, unknown>): Promise<any> {
  const { status, body } = await gw.raw<any>({ query, variables }, { authorization: `Bearer ${TEST_API_KEY}` });
  if (status !== 200 || body.errors?.length) throw new Error(`GraphQL ${status}: ${JSON.stringify(body.errors)}`);
  return Object.values(body.data!)[0];
}
const start = (gw: TestGateway, input: Record<string, unknown>) => gql(gw, START, { input });
const status = (gw: TestGateway, id: string) => gql(gw, STATUS, { id });

const calls = (stats: any, door: string, endpoint: string): number => stats.regions[door].calls[endpoint];

describe('two Prove regions', () => {
  let us: Region;
  let eu: Region;
  let gw: TestGateway;
  beforeAll(async () => {
    [us, eu] = await Promise.all([region('us'), region('eu')]);
    gw = await startGateway(envFor(us, eu), { breaker: { failures: 3, halfOpenAfterMs: 60_000 } });
  });
  afterAll(async () => {
    await gw?.close();
    for (const r of [us, eu]) {
      await r?.server.close();
      await r?.emulator.close();
    }
  });

  it('sends UK and German numbers to the EU hosts with the EU credentials, never to the US', async () => {
    const usBefore = await us.stats();
    const euBefore = await eu.stats();
    for (const phoneNumber of ['+44 7911 123456', '+49 1512 3456789']) {
      // Real numbers are no sandbox users: the EU sandbox refuses them, which proves the call got there.
      const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber });
      expect(refused).toMatchObject({ __typename: 'InvalidInputError', message: expect.stringMatching(/no test user/) });
    }
    const usAfter = await us.stats();
    const euAfter = await eu.stats();
    expect(calls(euAfter, 'eu', '/v3/unify') - calls(euBefore, 'eu', '/v3/unify')).toBe(2);
    expect(euAfter.regions.eu.responses['/v3/unify']['400']).toBeGreaterThanOrEqual(2);
    expect(usAfter.calls).toEqual(usBefore.calls);
    // The EU token came from the EU door, with the EU client (any other credential is refused there).
    expect(euAfter.regions.eu.tokensIssued).toBe(1);
    expect(calls(euAfter, 'us', '/token') + calls(euAfter, 'global', '/token')).toBe(0);
  });

  it('an EU sandbox flow lives in the EU: start, the device, status, all there', async () => {
    const usBefore = await us.stats();
    const started = await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004025' });
    expect(started).toMatchObject({ __typename: 'StartUnifyPayload', flow: { state: 'PENDING', region: 'EU', phoneNumber: '+2001004025' } });
    expect(await eu.sim.authenticate({ authToken: started.authToken, otp: '1234' })).toMatchObject({ result: 'finished' });
    const verified = await status(gw, started.flow.id);
    expect(verified).toMatchObject({ __typename: 'UnifyStatusPayload', flow: { state: 'VERIFIED', region: 'EU', deviceId: expect.any(String) } });
    expect(calls(await eu.stats(), 'eu', '/v3/unify-status')).toBeGreaterThanOrEqual(1);
    expect((await us.stats()).calls).toEqual(usBefore.calls);
  });

  it('a US number goes to the US hosts', async () => {
    const euBefore = await eu.stats();
    const started = await start(gw, { possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done' });
    expect(started.flow).toMatchObject({ region: 'US', phoneNumber: '+12001004014' });
    await us.sim.authenticate({ authToken: started.authToken, instantLink: true });
    expect((await status(gw, started.flow.id)).flow).toMatchObject({ state: 'VERIFIED', region: 'US' });
    expect(calls(await us.stats(), 'us', '/v3/unify-status')).toBeGreaterThanOrEqual(1);
    expect((await eu.stats()).calls).toEqual(euBefore.calls);
  });

  it('customer-supplied possession: bind follows the flow to its region', async () => {
    const started = await start(gw, { possessionType: 'NONE', phoneNumber: '+2001004026' });
    expect(started.flow.region).toBe('EU');
    await eu.sim.authenticate({ authToken: started.authToken });
    expect((await status(gw, started.flow.id)).flow.state).toBe('POSSESSION_REQUIRED');
    const usBefore = await us.stats();
    const bound = await gql(gw, BIND, { input: { flowId: started.flow.id, phoneNumber: '+2001004026' } });
    expect(bound).toMatchObject({ __typename: 'BindPhonePayload', flow: { state: 'BOUND', region: 'EU' } });
    expect(calls(await eu.stats(), 'eu', '/v3/unify-bind')).toBe(1);
    expect((await us.stats()).calls).toEqual(usBefore.calls);
  });

  it('a phone-less start goes to the region it names, or the default (US)', async () => {
    const byDefault = await start(gw, { possessionType: 'MOBILE' });
    expect(byDefault).toMatchObject({ __typename: 'StartUnifyPayload', flow: { region: 'US', phoneNumber: null } });
    const named = await start(gw, { possessionType: 'NONE', region: 'EU' });
    expect(named).toMatchObject({ __typename: 'StartUnifyPayload', flow: { region: 'EU' } });
    // Outside the US, Mobile Auth needs the number: the EU region says so, as a typed error.
    const mobileEu = await start(gw, { possessionType: 'MOBILE', region: 'EU' });
    expect(mobileEu).toMatchObject({ __typename: 'InvalidInputError', field: 'phoneNumber' });
    // A number decides its own region: naming the other one is refused before Prove is asked.
    const euBefore = (await eu.stats()).calls['/v3/unify'];
    const wrong = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', region: 'EU' });
    expect(wrong).toMatchObject({ __typename: 'InvalidInputError', field: 'region' });
    expect((await eu.stats()).calls['/v3/unify']).toBe(euBefore);
  });

  it('revokes a Prove Key in the region that holds it', async () => {
    const started = await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004027' });
    await eu.sim.authenticate({ authToken: started.authToken, otp: '1234' });
    const { deviceId } = (await status(gw, started.flow.id)).flow;
    // Named: only the EU is asked.
    const usBefore = calls(await us.stats(), 'us', '/v3/device/revoke');
    expect(await gql(gw, REVOKE, { input: { deviceId, region: 'EU' } })).toEqual({ __typename: 'RevokeDevicePayload', deviceId, revoked: true });
    expect(calls(await us.stats(), 'us', '/v3/device/revoke')).toBe(usBefore);

    // Not named: the default region (US) does not know it, so the EU is asked too.
    const again = await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004028' });
    await eu.sim.authenticate({ authToken: again.authToken, otp: '1234' });
    const second = (await status(gw, again.flow.id)).flow.deviceId;
    expect(await gql(gw, REVOKE, { input: { deviceId: second } })).toMatchObject({ revoked: true });
    expect(calls(await us.stats(), 'us', '/v3/device/revoke')).toBe(usBefore + 1);
  });

  it('/ready and /metrics show each region, without a credential in sight', async () => {
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    const body = await ready.json();
    expect(body.checks.prove).toMatchObject({
      ok: true,
      defaultRegion: 'us',
      regions: { us: { ok: true, credentials: 'accepted', circuit: 'closed' }, eu: { ok: true, credentials: 'accepted', circuit: 'closed' } },
    });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/^unify_prove_circuit_state\{region="us"\} 0$/m);
    expect(metrics).toMatch(/^unify_prove_circuit_state\{region="eu"\} 0$/m);
    const unifyCalls = (region: string) =>
      metrics
        .split('\n')
        .filter((line) => line.startsWith('unify_prove_request_duration_seconds_count{'))
        .filter((line) => ['endpoint="/v3/unify"', 'outcome="ok"', `region="${region}"`].every((label) => line.includes(label)))
        .map((line) => Number(line.split(' ').at(-1)));
    expect(unifyCalls('eu')).toEqual([expect.any(Number)]);
    expect(unifyCalls('eu')[0]).toBeGreaterThan(0);
    expect(unifyCalls('us')[0]).toBeGreaterThan(0);
    for (const secret of [US_CREDENTIALS, EU_CREDENTIALS].flatMap((c) => [c.clientId, c.clientSecret])) {
      expect(metrics).not.toContain(secret);
      expect(JSON.stringify(body)).not.toContain(secret);
    }
  });

  it('an EU outage opens only the EU circuit: US flows carry on, /ready stays ready and says which', async () => {
    await eu.sim.fault({ endpoint: '/v3/unify', status: 503, count: 100, region: 'eu' });
    for (let i = 0; i < 3; i++) {
      expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004025' })).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    }
    // Open: the EU fails fast without calling Prove.
    const euCalls = (await eu.stats()).calls['/v3/unify'];
    expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004025' })).toMatchObject({ __typename: 'UpstreamError', upstreamStatus: null });
    expect((await eu.stats()).calls['/v3/unify']).toBe(euCalls);

    for (let i = 0; i < 4; i++) {
      expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' })).toMatchObject({ __typename: 'StartUnifyPayload', flow: { region: 'US' } });
    }
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks.prove.regions).toMatchObject({ us: { circuit: 'closed' }, eu: { circuit: 'open' } });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/^unify_prove_circuit_state\{region="eu"\} 1$/m);
    expect(metrics).toMatch(/^unify_prove_circuit_state\{region="us"\} 0$/m);
    await eu.sim.clearFaults();
  });
});

describe('one region stopped, or refusing our credentials', () => {
  let us: Region;
  let eu: Region;
  const gateways: TestGateway[] = [];
  beforeAll(async () => {
    [us, eu] = await Promise.all([region('us'), region('eu')]);
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    for (const r of [us, eu]) {
      await r?.server.close();
      await r?.emulator.close();
    }
  });

  it('wrong EU credentials: a typed error for EU starts only; /ready warns and stays ready', async () => {
    const gw = await startGateway(envFor(us, eu, { PROVE_EU_CLIENT_SECRET: 'not-the-eu-secret' }));
    gateways.push(gw);
    const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004025' });
    expect(refused).toMatchObject({ __typename: 'UpstreamError', retryable: false, message: expect.stringMatching(/EU region/) });
    expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' })).toMatchObject({ __typename: 'StartUnifyPayload' });

    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    const body = await ready.json();
    expect(body.problems).toEqual([]);
    expect(body.warnings).toEqual([expect.stringMatching(/^prove: credentials refused in region eu/)]);
    expect(body.checks.prove.regions).toMatchObject({ us: { ok: true, credentials: 'accepted' }, eu: { ok: false, credentials: 'refused' } });
    expect(JSON.stringify(body)).not.toContain('not-the-eu-secret');
  });

  it('both regions refused: not ready', async () => {
    const gw = await startGateway(envFor(us, eu, { PROVE_EU_CLIENT_SECRET: 'wrong-eu', PROVE_US_CLIENT_SECRET: 'wrong-us' }));
    gateways.push(gw);
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).problems).toHaveLength(2);
  });

  it('the EU emulator stopped: EU starts are retryable UpstreamErrors, the US is untouched', async () => {
    const gw = await startGateway(envFor(us, eu), { breaker: { failures: 2, halfOpenAfterMs: 60_000 }, prove: { timeoutMs: 1_000 } });
    gateways.push(gw);
    await eu.server.close();
    await eu.emulator.close();
    for (let i = 0; i < 3; i++) {
      expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '+2001004026' })).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    }
    const started = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    expect(started).toMatchObject({ __typename: 'StartUnifyPayload', flow: { region: 'US' } });
    await us.sim.authenticate({ authToken: started.authToken, otp: '1234' });
    expect((await status(gw, started.flow.id)).flow.state).toBe('VERIFIED');
    const body = await (await fetch(`${gw.url}/ready`)).json();
    expect(body.status).toBe('ready');
    expect(body.checks.prove.regions).toMatchObject({ us: { circuit: 'closed', credentials: 'accepted' }, eu: { circuit: 'open' } });
  });
});

describe('one budget per region', () => {
  let us: Region;
  let eu: Region;
  let gw: TestGateway;
  beforeAll(async () => {
    [us, eu] = await Promise.all([region('us'), region('eu')]);
    // One call a second per region: a queue in one region is easy to see, and must not delay the other.
    gw = await startGateway(envFor(us, eu, { PROVE_RATE_LIMIT: '1' }));
  });
  afterAll(async () => {
    await gw?.close();
    for (const r of [us, eu]) {
      await r?.server.close();
      await r?.emulator.close();
    }
  });

  it('a queue of EU calls does not hold up a US call', async () => {
    const timed = async (input: Record<string, unknown>) => {
      const began = performance.now();
      const result = await start(gw, input);
      expect(result.__typename).toBe('StartUnifyPayload');
      return performance.now() - began;
    };
    const euStarts = Promise.all([0, 1, 2, 3].map(() => timed({ possessionType: 'MOBILE', phoneNumber: '+2001004025' })));
    // The first EU call has reached Prove, so the other three wait in the EU budget, a second apart.
    const deadline = Date.now() + 5_000;
    while (calls(await eu.stats(), 'eu', '/v3/unify') < 1) {
      if (Date.now() > deadline) throw new Error('the first EU start never reached the EU emulator');
    }
    const usTime = await timed({ possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const euTimes = await euStarts;
    expect(Math.max(...euTimes)).toBeGreaterThan(2_500);
    expect(usTime).toBeLessThan(Math.max(...euTimes) - 1_500);
  });

  it('a region that is not a region is refused by the schema, not a crash', async () => {
    const { status, body } = await gw.raw<any>({ query: START, variables: { input: { possessionType: 'NONE', region: 'MARS' } } });
    expect(status).toBeGreaterThanOrEqual(200);
    expect(status).toBeLessThan(500);
    expect(body.errors?.[0]?.message).toMatch(/ProveRegion/);
  });
});
