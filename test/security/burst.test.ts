import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { Redis } from 'ioredis';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { StartUnifyDocument, type StartUnifyMutation } from '../generated/graphql.js';
import { captureLogs, leaks, startUpstream, type Upstream } from './support.js';

/**
 * SMS pumping at scale: 500 starts from 500 addresses, spread over two gateway instances that
 * share one Redis, aimed at one Prove (a standalone emulator that answers 429 above its rate).
 * The per-number limit lets at most 3 sends per number through; the shared upstream budget keeps
 * the instances together under Prove's rate, so Prove never answers 429.
 */

const SANDBOX = ['2001004014', '2001004015', '2001004016', '2001004017', '2001004041', '2001004018', '+2001004029'];
const PER_NUMBER = 3;
const PROVE_RATE = 10;
const STARTS = 500;
const REDIS_URL = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/14`;

type StartResult = StartUnifyMutation['startUnify'];

const logs = captureLogs();
const secrets = new Set<string>([TEST_API_KEY, 'emulator-secret', '+12001004014', '+12001004015', '+12001004016', '+12001004017', '+12001004041', '+12001004018', '+2001004029']);

async function burst(instances: TestGateway[]): Promise<StartResult[]> {
  const possession = ['MOBILE', 'DESKTOP', 'NONE'] as const;
  return Promise.all(
    Array.from({ length: STARTS }, async (_, i) => {
      const possessionType = possession[i % 3]!;
      const input = {
        possessionType,
        phoneNumber: SANDBOX[i % SANDBOX.length]!,
        ...(possessionType === 'DESKTOP' ? { finalTargetUrl: 'https://example.com/done' } : {}),
      };
      const gw = instances[i % instances.length]!;
      const address = `198.18.${Math.floor(i / 250)}.${i % 250}`;
      const { status, body } = await gw.raw<StartUnifyMutation>(
        { query: print(StartUnifyDocument), variables: { input } },
        { 'x-forwarded-for': address },
      );
      expect(status, JSON.stringify(body)).toBe(200);
      if (!body.data) throw new Error(`${JSON.stringify(body)}\n${logs.lines.filter((l) => /error/i.test(l)).join('\n')}`);
      const result = body.data.startUnify;
      if (result.__typename === 'StartUnifyPayload') {
        secrets.add(result.authToken);
        secrets.add(result.flow.id);
      }
      return result;
    }),
  );
}

const count = (results: StartResult[], typename: StartResult['__typename']) => results.filter((r) => r.__typename === typename).length;

describe('500 starts across two instances on one Redis', () => {
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    const admin = new Redis(REDIS_URL);
    await admin.flushdb();
    admin.disconnect();
    upstream = await startUpstream({ rateLimitPerSecond: PROVE_RATE });
    const env = {
      ...upstream.env,
      REDIS_URL,
      PROVE_RATE_LIMIT: String(PROVE_RATE),
      START_LIMIT_PER_NUMBER: `${PER_NUMBER}/10m`, START_LIMIT_PER_NUMBER_ALL: `${PER_NUMBER}/10m`,
      START_LIMIT_PER_ADDRESS: '20/1m',
      TRUSTED_PROXIES: 'loopback',
    };
    a = await startGateway(env, { logger: logs.logger });
    b = await startGateway(env, { logger: logs.logger });
    // As a deployment would: traffic only once both instances report ready (store connected).
    for (const gw of [a, b]) {
      for (let i = 0; i < 50 && (await fetch(`${gw.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
    }
    await upstream.sim.resetStats();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
  });

  it('at most 3 sends per number reach Prove, Prove never answers 429, every other start is RateLimitedError', async () => {
    const results = await burst([a, b]);
    // /sim/stats also reports the status codes it answered (the shared client type omits them).
    const stats = (await upstream.sim.stats()) as Awaited<ReturnType<Upstream['sim']['stats']>> & { responses: Record<string, Record<string, number>> };
    const sent = stats.calls['/v3/unify'];
    expect(results.filter((r) => r.__typename !== 'StartUnifyPayload' && r.__typename !== 'RateLimitedError')).toEqual([]);

    expect(count(results, 'StartUnifyPayload')).toBe(SANDBOX.length * PER_NUMBER);
    expect(sent).toBe(SANDBOX.length * PER_NUMBER);
    expect(stats.rateLimited).toBe(0);
    expect(stats.responses['/v3/unify']).toEqual({ '200': SANDBOX.length * PER_NUMBER });
    expect(count(results, 'RateLimitedError')).toBe(STARTS - SANDBOX.length * PER_NUMBER);
    for (const refused of results) {
      if (refused.__typename === 'RateLimitedError') expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    }
    // Both instances sent: the limits and the budget were shared, not split.
    const perInstance = results.map((r, i) => [i % 2, r.__typename] as const).filter(([, t]) => t === 'StartUnifyPayload');
    expect(new Set(perInstance.map(([i]) => i)).size).toBe(2);
    for (const token of upstream.seen.accessTokens) secrets.add(token);
    for (const id of upstream.seen.correlationIds) secrets.add(id);
  });

  it('the control: two instances without the shared store send per instance and meet Prove 429s', async () => {
    const solo = { ...upstream.env, PROVE_RATE_LIMIT: String(PROVE_RATE), START_LIMIT_PER_NUMBER: `${PER_NUMBER}/10m`, START_LIMIT_PER_NUMBER_ALL: `${PER_NUMBER}/10m`, TRUSTED_PROXIES: 'loopback' };
    const c = await startGateway(solo, { logger: logs.logger });
    const d = await startGateway(solo, { logger: logs.logger });
    try {
      await upstream.sim.resetStats();
      const results = await burst([c, d]);
      const stats = await upstream.sim.stats();
      // Each instance counts alone: twice the sends, and together twice Prove's rate.
      expect(stats.calls['/v3/unify']).toBe(2 * SANDBOX.length * PER_NUMBER);
      expect(stats.rateLimited).toBeGreaterThan(0);
      // Every unify Prove refused with 429 reached its client as a refusal, not a flow.
      expect(count(results, 'StartUnifyPayload')).toBe(stats.calls['/v3/unify']! - stats.rateLimited);
      for (const token of upstream.seen.accessTokens) secrets.add(token);
      for (const id of upstream.seen.correlationIds) secrets.add(id);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('no log line of either run carries a number, token, flow id, key or secret', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(leaks(logs.lines, secrets)).toEqual([]);
  });
});
