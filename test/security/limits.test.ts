import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { Redis } from 'ioredis';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { StartUnifyDocument, type StartUnifyInput, type StartUnifyMutation } from '../generated/graphql.js';
import { captureLogs, leaks, startUpstream, wsClient, wsRun, type Upstream } from './support.js';

/** Send limits per number and per address, the country allow-list, and what does not count against a limit. */

type StartResult = StartUnifyMutation['startUnify'];

const logs = captureLogs();
let upstream: Upstream;
const gateways: TestGateway[] = [];
const numbersUsed = new Set<string>();

beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await upstream.close();
  expect(logs.lines.filter((l) => l.includes('start refused by send limit')).length).toBeGreaterThan(5);
  const secrets = [TEST_API_KEY, 'emulator-secret', ...numbersUsed, ...upstream.seen.accessTokens, ...upstream.seen.authTokens, ...upstream.seen.correlationIds];
  expect(leaks(logs.lines, secrets)).toEqual([]);
});

async function gateway(env: Record<string, string> = {}) {
  const gw = await startGateway(
    { START_LIMIT_PER_NUMBER: '3/10m', START_LIMIT_PER_NUMBER_ALL: '100/1h', START_LIMIT_PER_NUMBER_TRUSTED: '3/10m', START_LIMIT_PER_ADDRESS: '5/1m', TRUSTED_PROXIES: 'loopback', ALLOWED_COUNTRIES: 'US', ...upstream.env, ...env },
    { logger: logs.logger },
  );
  gateways.push(gw);
  return gw;
}

/** One start over HTTP from `address` (X-Forwarded-For), or trusted with the API key. */
async function start(gw: TestGateway, input: StartUnifyInput, from: { address?: string; trusted?: boolean } = {}): Promise<StartResult> {
  const digits = (input.phoneNumber ?? '').replace(/\D/g, '');
  numbersUsed.add(digits.length === 10 ? `+1${digits}` : `+${digits}`);
  const headers: Record<string, string> = {};
  if (from.address) headers['x-forwarded-for'] = from.address;
  if (from.trusted) headers.authorization = `Bearer ${TEST_API_KEY}`;
  const { status, body } = await gw.raw<StartUnifyMutation>({ query: print(StartUnifyDocument), variables: { input } }, headers);
  expect(status, JSON.stringify(body)).toBe(200);
  const result = body.data!.startUnify;
  if (result.__typename === 'StartUnifyPayload') upstream.seen.authTokens.add(result.authToken);
  return result;
}

async function startOverWs(gw: TestGateway, input: StartUnifyInput, address: string): Promise<StartResult> {
  const client = wsClient(gw.graphqlUrl, { headers: { 'x-forwarded-for': address } });
  try {
    const outcome = await wsRun(client, { query: print(StartUnifyDocument), variables: { input } });
    return outcome.results[0]!.data!.startUnify as StartResult;
  } finally {
    await client.dispose();
  }
}

const unifyCalls = async () => (await upstream.sim.stats()).calls['/v3/unify'] ?? 0;

describe('per phone number', () => {
  it('three starts from one address reach Prove, the fourth from it is RateLimitedError over either transport', async () => {
    const gw = await gateway();
    const before = await unifyCalls();
    for (let i = 0; i < 3; i++) {
      expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '198.51.100.1' })).__typename).toBe('StartUnifyPayload');
    }
    const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '198.51.100.1' });
    expect(refused).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    if (refused.__typename !== 'RateLimitedError') return;
    expect(refused.retryAfterSeconds).toBeGreaterThan(590);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
    expect(refused.message).toMatch(/this number/);

    // The same person in another spelling is the same number; the WebSocket shares the count.
    expect((await start(gw, { possessionType: 'DESKTOP', phoneNumber: '+1 (200) 100-4014', finalTargetUrl: 'https://example.com/x' }, { address: '198.51.100.1' })).__typename).toBe('RateLimitedError');
    expect((await startOverWs(gw, { possessionType: 'NONE', phoneNumber: '2001004014' }, '198.51.100.1')).__typename).toBe('RateLimitedError');
    expect(await unifyCalls()).toBe(before + 3);

    // Neither another address nor the trusted backend is locked out by this one (see lockout.test.ts), nor another number.
    expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '198.51.100.2' })).toMatchObject({ __typename: 'StartUnifyPayload' });
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' }, { address: '198.51.100.3' })).__typename).toBe('StartUnifyPayload');
  });

  it('repeating an identical start (same clientRequestId) returns the same flow and uses no budget', async () => {
    const gw = await gateway();
    const input = { possessionType: 'MOBILE', phoneNumber: '2001004016', clientRequestId: 'order-77' } as const;
    const first = await start(gw, input, { trusted: true });
    for (let i = 0; i < 5; i++) {
      const again = await start(gw, input, { trusted: true });
      expect(again.__typename === 'StartUnifyPayload' && first.__typename === 'StartUnifyPayload' && again.flow.id === first.flow.id).toBe(true);
    }
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004016' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004016' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004016' }, { trusted: true })).__typename).toBe('RateLimitedError');
  });

  it('refused input costs nothing: a malformed start does not count against the number', async () => {
    const gw = await gateway();
    for (let i = 0; i < 5; i++) {
      const bad = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004017', smsMessage: 'no placeholder' }, { trusted: true });
      expect(bad).toMatchObject({ __typename: 'InvalidInputError', field: 'smsMessage' });
    }
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004017' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
  });
});

describe('per client address', () => {
  it('five starts from one address, then RateLimitedError for that address only (HTTP and WebSocket alike)', async () => {
    const gw = await gateway({ START_LIMIT_PER_NUMBER: '100/10m' });
    const numbers = ['2001004014', '2001004015', '2001004016', '2001004017', '2001004041'];
    for (const phoneNumber of numbers) {
      expect((await start(gw, { possessionType: 'MOBILE', phoneNumber }, { address: '203.0.113.7' })).__typename).toBe('StartUnifyPayload');
    }
    const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '203.0.113.7' });
    expect(refused).toMatchObject({ __typename: 'RateLimitedError' });
    if (refused.__typename === 'RateLimitedError') {
      expect(refused.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    expect((await startOverWs(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' }, '203.0.113.7')).__typename).toBe('RateLimitedError');
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '203.0.113.8' })).__typename).toBe('StartUnifyPayload');
    // A trusted backend is one address in front of all its users: no address limit, the number limit still holds.
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004016' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
  });

  it('an address over its limit does not also use up the number it aims at', async () => {
    const gw = await gateway({ START_LIMIT_PER_ADDRESS: '1/1m' });
    expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' }, { address: '203.0.113.20' })).__typename).toBe('StartUnifyPayload');
    for (let i = 0; i < 5; i++) {
      expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: '203.0.113.20' })).__typename).toBe('RateLimitedError');
    }
    for (let i = 0; i < 3; i++) {
      expect((await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, { address: `203.0.113.${30 + i}` })).__typename).toBe('StartUnifyPayload');
    }
  });
});

describe('countries', () => {
  it('ALLOWED_COUNTRIES refuses numbers from elsewhere, and premium-rate numbers everywhere, before anything is sent', async () => {
    const gw = await gateway();
    const before = await unifyCalls();
    for (const [phoneNumber, words] of [
      ['+44 7400 123456', /GB/],
      ['+33 6 12 34 56 78', /FR/],
      ['+1 876 555 0123', /JM/],
      ['+1 900 555 0100', /Premium-rate/],
      ['+44 909 879 0000', /Premium-rate/],
    ] as const) {
      const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber }, { trusted: true });
      expect(refused).toMatchObject({ __typename: 'InvalidInputError', field: 'phoneNumber' });
      expect(refused.__typename === 'InvalidInputError' && refused.message).toMatch(words);
    }
    const gb = await gateway({ ALLOWED_COUNTRIES: 'GB' });
    const us = await start(gb, { possessionType: 'MOBILE', phoneNumber: '+1 212 456 7890' }, { trusted: true });
    expect(us.__typename === 'InvalidInputError' && us.message).toMatch(/US/);
    expect(await unifyCalls()).toBe(before);
  });
});

describe('with Redis, every instance counts together', () => {
  const redisUrl = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/13`;
  it('two starts on one instance and one on another use up the number', async () => {
    const admin = new Redis(redisUrl);
    await admin.flushdb();
    admin.disconnect();
    const a = await gateway({ REDIS_URL: redisUrl });
    const b = await gateway({ REDIS_URL: redisUrl });
    expect((await start(a, { possessionType: 'MOBILE', phoneNumber: '2001004041' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(a, { possessionType: 'MOBILE', phoneNumber: '2001004041' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(b, { possessionType: 'MOBILE', phoneNumber: '2001004041' }, { trusted: true })).__typename).toBe('StartUnifyPayload');
    expect((await start(b, { possessionType: 'MOBILE', phoneNumber: '2001004041' }, { trusted: true })).__typename).toBe('RateLimitedError');
    expect((await start(a, { possessionType: 'MOBILE', phoneNumber: '2001004041' }, { trusted: true })).__typename).toBe('RateLimitedError');
  });
});
