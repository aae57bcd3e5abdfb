/**
 * A stranger cannot lock a number: starts Prove refused cost nothing, public starts use up only
 * their own address's share of a number, the operator's backend has a budget of its own, and a
 * cap over all addresses still stops pumping one number from many.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { StartUnifyDocument, type StartUnifyInput, type StartUnifyMutation } from '../generated/graphql.js';
import { startUpstream, type Upstream } from './support.js';

type StartResult = StartUnifyMutation['startUnify'];
const MOBILE = (phoneNumber: string): StartUnifyInput => ({ possessionType: 'MOBILE', phoneNumber });

let upstream: Upstream;
const gateways: TestGateway[] = [];
beforeAll(async () => (upstream = await startUpstream({ rateLimitPerSecond: 0 })));
afterEach(async () => {
  await upstream.sim.clearFaults();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
afterAll(() => upstream.close());

/** The defaults of every send limit (test/support/gateway.ts raises them for other suites). */
async function gateway(env: Record<string, string> = {}) {
  const gw = await startGateway({
    START_LIMIT_PER_NUMBER: '3/10m', START_LIMIT_PER_NUMBER_ALL: '10/1h', START_LIMIT_PER_NUMBER_TRUSTED: '10/10m', START_LIMIT_PER_ADDRESS: '20/1m',
    TRUSTED_PROXIES: 'loopback', ...upstream.env, ...env,
  });
  gateways.push(gw);
  return gw;
}

async function start(gw: TestGateway, input: StartUnifyInput, from: { address?: string; trusted?: boolean }): Promise<StartResult> {
  const headers: Record<string, string> = {};
  if (from.address) headers['x-forwarded-for'] = from.address;
  if (from.trusted) headers.authorization = `Bearer ${TEST_API_KEY}`;
  const { status, body } = await gw.raw<StartUnifyMutation>({ query: print(StartUnifyDocument), variables: { input } }, headers);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.data!.startUnify;
}

/** Unify sessions Prove's model created: each one is a text to a person. */
const sentTexts = async () => ((await upstream.sim.stats()) as unknown as { responses: Record<string, Record<string, number>> }).responses['/v3/unify']?.['200'] ?? 0;

describe('the lockout an attacker caused with three anonymous starts', () => {
  it('starts Prove refused (no SMS) do not count against the number', async () => {
    const gw = await gateway();
    await upstream.sim.fault({ endpoint: '/v3/unify', status: 400, count: 5, body: { code: 1000, message: 'phoneNumber is not valid' } });
    for (let i = 0; i < 5; i++) {
      expect((await start(gw, MOBILE('2001004014'), { address: '198.51.100.66' })).__typename).toBe('InvalidInputError');
    }
    // The same stranger's address still has its whole share of the number: three texts.
    for (let i = 0; i < 3; i++) expect((await start(gw, MOBILE('2001004014'), { address: '198.51.100.66' })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, MOBILE('2001004014'), { address: '198.51.100.66' })).__typename).toBe('RateLimitedError');
  });

  it("a stranger's delivered texts use up the stranger's share only: the owner and the backend still start", async () => {
    const gw = await gateway();
    for (let i = 0; i < 3; i++) expect((await start(gw, MOBILE('2001004015'), { address: '198.51.100.77' })).__typename).toBe('StartUnifyPayload');
    const stranger = await start(gw, MOBILE('2001004015'), { address: '198.51.100.77' });
    expect(stranger).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect((await start(gw, MOBILE('2001004015'), { address: '203.0.113.5' })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, MOBILE('2001004015'), { trusted: true })).__typename).toBe('StartUnifyPayload');
  });

  it('the backend is never blocked by public traffic, only by its own budget', async () => {
    const gw = await gateway({ START_LIMIT_PER_NUMBER_ALL: '3/1h' });
    // Public traffic exhausts every public budget of the number.
    for (let i = 0; i < 3; i++) expect((await start(gw, MOBILE('2001004016'), { address: `198.51.100.${i + 1}` })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, MOBILE('2001004016'), { address: '198.51.100.200' })).__typename).toBe('RateLimitedError');
    // The backend: its ten, then its own refusal.
    for (let i = 0; i < 10; i++) expect((await start(gw, MOBILE('2001004016'), { trusted: true })).__typename).toBe('StartUnifyPayload');
    const own = await start(gw, MOBILE('2001004016'), { trusted: true });
    expect(own).toMatchObject({ __typename: 'RateLimitedError' });
    expect(own.__typename === 'RateLimitedError' && own.retryAfterSeconds).toBeGreaterThan(500);
    // The backend's own texts did not use up the public budget either way round.
    expect((await start(gw, MOBILE('2001004016'), { address: '198.51.100.201' })).__typename).toBe('RateLimitedError');
  });

  it('pumping one number from many addresses stops at the cap over all addresses', async () => {
    const gw = await gateway();
    const before = await sentTexts();
    const outcomes: string[] = [];
    for (let i = 0; i < 15; i++) outcomes.push((await start(gw, MOBILE('2001004017'), { address: `192.0.2.${i + 1}` })).__typename);
    expect(outcomes.filter((o) => o === 'StartUnifyPayload')).toHaveLength(10);
    expect(outcomes.slice(10)).toEqual(Array(5).fill('RateLimitedError'));
    expect((await sentTexts()) - before).toBe(10);
  });

  it('a start whose outcome is unknown (Prove may have sent the SMS) still counts', async () => {
    const gw = await gateway({ PROVE_TIMEOUT: '300ms' });
    await upstream.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_000, count: 3 });
    for (let i = 0; i < 3; i++) expect((await start(gw, MOBILE('2001004018'), { address: '198.51.100.90' })).__typename).toBe('UpstreamError');
    expect((await start(gw, MOBILE('2001004018'), { address: '198.51.100.90' })).__typename).toBe('RateLimitedError');
  });
});
