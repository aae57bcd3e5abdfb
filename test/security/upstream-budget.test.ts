import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { memoryBudget, redisBudget } from '../../src/security/upstream-budget.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emulatorClient, startGateway, type EmulatorClient, type TestGateway } from '../support/gateway.js';
import { start } from '../support/flows.js';
import { sharedRedis } from '../live/support.js';

/**
 * The shared upstream budget under overload. A call the budget refuses (its slot would be more
 * than maxWait away) must take no slot: otherwise every refused call pushes the queue further out,
 * and soon every call is refused although Prove is idle.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many of `times` fall in each whole second from 0 to `seconds` - 1. */
const perSecond = (times: number[], seconds: number) => {
  const counts = Array.from({ length: seconds }, () => 0);
  for (const t of times) if (t >= 0 && t < seconds * 1000) counts[Math.floor(t / 1000)]!++;
  return counts;
};

describe('memoryBudget under overload (its own clock)', () => {
  it('50 calls/s offered to 25/s for 12 s: calls keep being admitted at the rate, and a call after the load is admitted', async () => {
    let now = 0;
    const budget = memoryBudget(25, () => now);
    const maxWaitMs = 5_000;
    const admittedAt: number[] = [];
    const goesAt: number[] = [];
    for (now = 0; now < 12_000; now += 20) {
      const wait = await budget.reserve(maxWaitMs);
      if (wait <= maxWaitMs) {
        admittedAt.push(now);
        goesAt.push(now + wait);
      }
    }
    // Every second of the load admits calls: at first all 50 (the queue fills up to maxWait), then
    // what the rate frees, ~23 a second (25/s less the spacing margin).
    const admitted = perSecond(admittedAt, 12);
    for (const count of admitted) expect(count).toBeGreaterThanOrEqual(22);
    for (const count of admitted.slice(6)) expect(count).toBeLessThanOrEqual(25);
    // The calls go out evenly spaced, never faster than the rate.
    for (let i = 1; i < goesAt.length; i++) expect(goesAt[i]! - goesAt[i - 1]!).toBeGreaterThanOrEqual(budget.intervalMs - 1e-9);
    expect(perSecond(goesAt, 17).every((count) => count <= 25)).toBe(true);

    // One second after the load: the queue holds at most maxWait of calls, so this one is admitted.
    now = 13_000;
    const wait = await budget.reserve(maxWaitMs);
    expect(wait).toBeLessThanOrEqual(maxWaitMs - 1_000 + budget.intervalMs);
  });

  it('a refused call takes no slot', async () => {
    let now = 0;
    const budget = memoryBudget(10, () => now);
    expect(await budget.reserve(0)).toBe(0);
    const second = await budget.reserve(0);
    expect(second).toBeCloseTo(budget.intervalMs);
    // Refused again and again: the next admitted call still gets the very next slot.
    for (let i = 0; i < 100; i++) expect(await budget.reserve(0)).toBeCloseTo(budget.intervalMs);
    expect(await budget.reserve(1_000)).toBeCloseTo(budget.intervalMs);
    expect(await budget.reserve(1_000)).toBeCloseTo(2 * budget.intervalMs);
  });
});

const base = await sharedRedis();
// A database of its own: the gateway's budget lives under a fixed key.
const REDIS_URL = base ? `${base.replace(/\/\d*$/, '')}/8` : '';

describe.skipIf(!base)('redisBudget under overload (real time, Redis clock)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(() => redis?.disconnect());

  it('400 calls/s offered to 200/s for 2 s: calls keep being admitted throughout; a call after the load is admitted', async () => {
    const key = `test:upstream-budget:${process.pid}:${Date.now()}`;
    const budget = redisBudget(redis, 200, key);
    const maxWaitMs = 250;
    const t0 = performance.now();
    const admittedAt: number[] = [];
    const calls: Promise<void>[] = [];
    // 4 calls every 10 ms.
    for (let tick = 0; tick < 200; tick++) {
      const due = t0 + tick * 10;
      const ahead = due - performance.now();
      if (ahead > 0) await sleep(ahead);
      for (let i = 0; i < 4; i++) {
        const offered = performance.now() - t0;
        calls.push(
          budget.reserve(maxWaitMs).then((wait) => {
            if (wait <= maxWaitMs) admittedAt.push(offered);
          }),
        );
      }
    }
    await Promise.all(calls);
    const elapsed = performance.now() - t0;
    // Admissions by quarter of the load: calls keep being admitted in each, not only in the first
    // (taking slots for refused calls admits nothing after the first 250 ms). The rate would admit
    // ~90 a quarter; the bound leaves room for a busy machine that offers late.
    const quarters = Array.from({ length: 4 }, (_, q) => admittedAt.filter((t) => t >= q * 500 && t < (q + 1) * 500).length);
    for (const count of quarters) expect(count, `admitted per 500 ms: ${quarters}`).toBeGreaterThanOrEqual(20);
    expect(admittedAt.length).toBeLessThanOrEqual(Math.ceil((elapsed + maxWaitMs) / budget.intervalMs) + 1);

    await sleep(100);
    const wait = await budget.reserve(maxWaitMs);
    expect(wait).toBeLessThanOrEqual(maxWaitMs);
    await redis.del(key);
  });
});

/**
 * The same through a whole gateway: startUnify offered at 50/s to PROVE_RATE_LIMIT=25 for 7 s (the
 * budget waits up to 5 s for a slot). Starts keep succeeding at about the rate for the whole 7 s
 * (before, all successes came in the first ~4 s, then every start was refused), Prove (the
 * emulator, 25/s over a sliding second) all but never answers 429, and a start once the queue has
 * drained succeeds at once (before, it would have had to wait about 8 s more, and was refused). The emulator runs in a
 * process of its own, as Prove would: in the test's process it shared the gateway's event loop,
 * and on a busy machine calls the budget had spaced evenly were read in clumps.
 */

/** `npm run emulator` in a child process on a free port. */
async function emulatorProcess(): Promise<{ url: string; sim: EmulatorClient; env: Record<string, string>; close(): Promise<void> }> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const child: ChildProcess = spawn(tsx, ['src/emulator/main.ts'], {
    cwd: root,
    env: { ...process.env, EMULATOR_PORT: '0', EMULATOR_CLIENT_ID: 'budget-client', EMULATOR_CLIENT_SECRET: 'budget-secret-value' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const until = Date.now() + 20_000;
  let url: string | undefined;
  while (!(url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1])) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the emulator did not start:\n${out}`);
    await sleep(50);
  }
  return {
    url,
    sim: emulatorClient(url),
    env: { PROVE_BASE_URL: url, PROVE_CLIENT_ID: 'budget-client', PROVE_CLIENT_SECRET: 'budget-secret-value' },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('a gateway offered twice its Prove rate', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  let prove: Awaited<ReturnType<typeof emulatorProcess>> | undefined;
  afterEach(async () => {
    await prove?.close();
    prove = undefined;
  });

  const overload = async (env: Record<string, string>) => {
    prove = await emulatorProcess();
    gw = await startGateway({ PROVE_RATE_LIMIT: '25', ...prove.env, ...env });
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014' };
    const seconds = 7;
    const t0 = performance.now();
    const results: Array<Promise<{ offered: number; outcome: string }>> = [];
    for (let i = 0; i < seconds * 50; i++) {
      const ahead = t0 + i * 20 - performance.now();
      if (ahead > 0) await sleep(ahead);
      const offered = performance.now() - t0;
      results.push(start(gw, input).then((r) => ({ offered, outcome: r.__typename, ...(r.__typename === 'UpstreamError' && { message: r.message }) })));
    }
    // The queue never holds more than the 5 s a call may wait, so 6 s after the load it is empty and
    // a start goes at once. Were refused calls to take slots, this one would still face a wait of
    // about 8 s, and be refused. (Sooner after the load it may be refused on a busy machine: slots
    // that fire too late to use are replaced, and the newest waiting call is the one that then
    // finds no slot within its wait.)
    await sleep(6_000);
    const last = await start(gw, input);
    const outcomes = await Promise.all(results);

    const ok = outcomes.filter((o) => o.outcome === 'StartUnifyPayload');
    expect(outcomes.filter((o) => o.outcome !== 'StartUnifyPayload' && o.outcome !== 'RateLimitedError')).toEqual([]);
    const admitted = perSecond(
      ok.map((o) => o.offered),
      seconds,
    );
    // Every second of the load admits starts (the rate allows ~23); taking slots for refused calls
    // admits none after the first ~4 s. The bound leaves room for a busy machine offering late.
    for (const count of admitted) expect(count, `starts admitted per second offered: ${admitted}`).toBeGreaterThanOrEqual(5);
    expect(last.__typename).toBe('StartUnifyPayload');
    // Prove's own 429s stay rare: at most 2% of the calls, for a machine so busy that a wake-up
    // comes later than the spacing's margin (a budget that let twice the rate through meets them
    // by the dozen).
    const stats = await prove!.sim.stats();
    expect(stats.rateLimited, `Prove answered 429 to ${stats.rateLimited} of ${ok.length} calls`).toBeLessThanOrEqual(Math.floor(ok.length / 50));
  };

  it('in memory', async () => {
    await overload({});
  }, 60_000);

  it.skipIf(!base)('on Redis', async () => {
    const admin = new Redis(REDIS_URL);
    await admin.flushdb();
    admin.disconnect();
    await overload({ REDIS_URL });
  }, 60_000);
});
