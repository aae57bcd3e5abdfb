/**
 * No caller ever receives a flow or authToken someone else started, under any proxy setting, and
 * a client address comes from our own proxies only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { StartUnifyDocument, type StartUnifyInput, type StartUnifyMutation } from '../generated/graphql.js';
import { startUpstream, type Upstream } from './support.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import { isUnguessable } from '../../src/flows/caller.js';

type StartResult = StartUnifyMutation['startUnify'];

let upstream: Upstream;
const gateways: TestGateway[] = [];
beforeAll(async () => (upstream = await startUpstream({ rateLimitPerSecond: 0 })));
afterEach(async () => void (await Promise.all(gateways.splice(0).map((g) => g.close()))));
afterAll(() => upstream.close());

async function gateway(env: Record<string, string> = {}) {
  const gw = await startGateway({ ...upstream.env, ...env });
  gateways.push(gw);
  return gw;
}

async function start(gw: TestGateway, input: StartUnifyInput, headers: Record<string, string> = {}): Promise<StartResult> {
  const { status, body } = await gw.raw<StartUnifyMutation>({ query: print(StartUnifyDocument), variables: { input } }, headers);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.data!.startUnify;
}
const unifyCalls = async () => (await upstream.sim.stats()).calls['/v3/unify'] ?? 0;

describe('public clientRequestId', () => {
  const input = (clientRequestId: string): StartUnifyInput => ({ possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId });

  it('two users behind one proxy with the same guessable id: the second never gets the first flow, and no second SMS', async () => {
    // No TRUSTED_PROXIES: every user has the proxy's address, as in the attack.
    const gw = await gateway();
    const first = await start(gw, input('order-42'));
    expect(first.__typename).toBe('StartUnifyPayload');
    const calls = await unifyCalls();
    const second = await start(gw, input('order-42'));
    expect(second).toMatchObject({ __typename: 'InvalidInputError', field: 'clientRequestId' });
    const text = JSON.stringify(second);
    if (first.__typename === 'StartUnifyPayload') {
      expect(text).not.toContain(first.flow.id);
      expect(text).not.toContain(first.authToken);
    }
    expect(second.__typename === 'InvalidInputError' && second.message).toMatch(/unguessable/);
    expect(await unifyCalls()).toBe(calls);
  });

  it('an unguessable id (a UUID v4) replays its flow to whoever holds it, from any address', async () => {
    const gw = await gateway({ TRUSTED_PROXIES: 'loopback' });
    const id = randomUUID();
    const first = await start(gw, input(id), { 'x-forwarded-for': '198.51.100.1' });
    const calls = await unifyCalls();
    const again = await start(gw, input(id), { 'x-forwarded-for': '203.0.113.9' });
    expect(first.__typename === 'StartUnifyPayload' && again.__typename === 'StartUnifyPayload' && again.flow.id === first.flow.id).toBe(true);
    expect(await unifyCalls()).toBe(calls);
    // Bound to its input too: the same id with another number is refused, telling nothing.
    const other = await start(gw, { ...input(id), phoneNumber: '2001004015' });
    expect(other).toMatchObject({ __typename: 'InvalidInputError', field: 'clientRequestId' });
    if (first.__typename === 'StartUnifyPayload') expect(JSON.stringify(other)).not.toContain(first.authToken);
  });

  it('a public caller cannot take over a trusted backend\'s id', async () => {
    const gw = await gateway();
    const id = randomUUID();
    const backend = await start(gw, input(id), { authorization: `Bearer ${TEST_API_KEY}` });
    expect(backend.__typename).toBe('StartUnifyPayload');
    const stranger = await start(gw, input(id));
    expect(stranger).toMatchObject({ __typename: 'InvalidInputError', field: 'clientRequestId' });
  });

  it('what counts as unguessable', () => {
    expect(isUnguessable(randomUUID())).toBe(true);
    expect(isUnguessable('k3J9xQ2mZ7pL4vB8nW1cT6yH0dF5gR2s')).toBe(true);
    for (const guessable of ['order-42', '00000000-0000-4000-8000-000000000000', 'a'.repeat(40), '0123456789'.repeat(4), 'short-but-random-Zq8']) {
      expect(isUnguessable(guessable), guessable).toBe(false);
    }
  });
});

describe('client address and proxies', () => {
  const limited = { START_LIMIT_PER_ADDRESS: '2/1m', START_LIMIT_PER_NUMBER: '100/1m', START_LIMIT_PER_NUMBER_ALL: '100/1m' };
  const mobile: StartUnifyInput = { possessionType: 'MOBILE', phoneNumber: '2001004016' };

  it('without TRUSTED_PROXIES a forged X-Forwarded-For does not escape the per-address limit', async () => {
    const gw = await gateway(limited);
    for (let i = 0; i < 2; i++) expect((await start(gw, mobile, { 'x-forwarded-for': `192.0.2.${i}` })).__typename).toBe('StartUnifyPayload');
    expect((await start(gw, mobile, { 'x-forwarded-for': '192.0.2.99' })).__typename).toBe('RateLimitedError');
    expect((await start(gw, mobile, { forwarded: 'for=192.0.2.98' })).__typename).toBe('RateLimitedError');
  });

  it('behind a trusted proxy, the address left of it is the client; what a client wrote further left is not read', async () => {
    const gw = await gateway({ ...limited, TRUSTED_PROXIES: '127.0.0.1/8' });
    // The client 203.0.113.1 prepends forged addresses; the proxy (loopback) appends the real one.
    for (let i = 0; i < 2; i++) {
      expect((await start(gw, mobile, { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.1` })).__typename).toBe('StartUnifyPayload');
    }
    expect((await start(gw, mobile, { 'x-forwarded-for': '10.9.9.77, 203.0.113.1' })).__typename).toBe('RateLimitedError');
    expect((await start(gw, mobile, { 'x-forwarded-for': '203.0.113.2' })).__typename).toBe('StartUnifyPayload');
  });

  it('TRUST_PROXY_HEADER=forwarded reads RFC 7239 Forwarded (and ignores X-Forwarded-For)', async () => {
    const gw = await gateway({ ...limited, TRUSTED_PROXIES: 'loopback', TRUST_PROXY_HEADER: 'forwarded' });
    for (let i = 0; i < 2; i++) {
      expect((await start(gw, mobile, { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https', 'x-forwarded-for': `192.0.2.${i}` })).__typename).toBe('StartUnifyPayload');
    }
    expect((await start(gw, mobile, { forwarded: 'for="[2001:db8:cafe::17]:4711"' })).__typename).toBe('RateLimitedError');
    expect((await start(gw, mobile, { forwarded: 'for=198.51.100.17' })).__typename).toBe('StartUnifyPayload');
    // A header that does not parse is not believed: the proxy's own address is used.
    expect((await start(gw, mobile, { forwarded: 'for=' })).__typename).toBe('StartUnifyPayload');
  });

  it('configuration: TRUST_PROXY_HOPS is refused with what to use instead; bad ranges are named', () => {
    expect(() => loadConfig({ TRUST_PROXY_HOPS: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: '1' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/99' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUST_PROXY_HEADER: 'x-real-ip' })).toThrow(/TRUST_PROXY_HEADER/);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, loopback', TRUST_PROXY_HEADER: 'forwarded' }).proxyTrust).toEqual({ proxies: ['10.0.0.0/8', 'loopback'], header: 'forwarded' });
  });
});
