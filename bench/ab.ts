import { readFileSync } from 'node:fs';
import { print } from 'graphql';
import { FlowDocument, StartUnifyDocument } from '../test/generated/graphql.js';
import { build, startChild, stopAll, type Child } from './lib/children.js';
import { Pool, buildRequest, load, median } from './lib/http.js';

/**
 * A/B for one optimisation: the gateway from another checkout (a git worktree of the commit
 * before, BENCH_AB_BASE=/path/to/worktree) and from this one, loaded in alternation with flow(id)
 * and with whole flows (startUnify + unifyStatus, 50 concurrent), side by side in one run.
 * Usage: git worktree add /tmp/base HEAD~1 && BENCH_AB_BASE=/tmp/base npx tsx bench/ab.ts
 * (BENCH_AB_AFTER=/other/worktree compares two worktrees, leaving this checkout's changes out.)
 */
const base = process.env.BENCH_AB_BASE;
if (!base) throw new Error('BENCH_AB_BASE=/path/to/other/checkout is required');
const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 5);
const children: Child[] = [];
const cpuMs = async (c: Child) => {
  const { cpu } = await c.call<{ cpu: { user: number; system: number } }>('usage');
  return (cpu.user + cpu.system) / 1000;
};
// Both checkouts compiled (a base older than the build config runs under tsx, and says so).
const baseDir = `${base.replace(/\/$/, '')}/bench/`;
const afterDir = process.env.BENCH_AB_AFTER ? `${process.env.BENCH_AB_AFTER.replace(/\/$/, '')}/bench/` : undefined;
for (const dir of [baseDir, afterDir]) if (!build(dir)) console.log(`${dir}: no tsconfig.build.json, running its sources under tsx`);
try {
  const emulator = await startChild('emulator', { args: { rateLimitPerSecond: 0 } });
  children.push(emulator);
  const env = {
    NODE_ENV: 'production', PORT: '0', PROVE_BASE_URL: String(emulator.info.url), PROVE_CLIENT_ID: 'emulator-client',
    PROVE_CLIENT_SECRET: 'emulator-secret', PROVE_RATE_LIMIT: '10000', START_LIMIT_PER_NUMBER: '1000000/1m', START_LIMIT_PER_ADDRESS: '1000000/1m',
  };
  // Limits a checkout knows are set out of the way; one that does not know a variable refuses it.
  const knows = (dir: string, name: string) => readFileSync(`${dir}../src/config.ts`, 'utf8').includes(`'${name}'`);
  const limitsFor = (dir: string) =>
    Object.fromEntries(['START_LIMIT_PER_NUMBER_ALL', 'START_LIMIT_PER_NUMBER_TRUSTED'].filter((n) => knows(dir, n)).map((n) => [n, '1000000/1m']));
  const thisDir = new URL('./', import.meta.url).pathname;
  const a = await startChild('gateway', { env: { ...env, ...limitsFor(baseDir) }, benchDir: baseDir });
  const b = await startChild('gateway', { env: { ...env, ...limitsFor(afterDir ?? thisDir) }, ...(afterDir ? { benchDir: afterDir } : {}) });
  children.push(a, b);
  const gateways = [['before', a], ['after', b]] as const;
  const rps: Record<string, number[]> = { before: [], after: [] };
  const flowMs: Record<string, number[]> = { before: [], after: [] };
  const cpuUs: Record<string, number[]> = { before: [], after: [] };
  const flowCpuUs: Record<string, number[]> = { before: [], after: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, gw] of r % 2 ? [...gateways].reverse() : gateways) {
      const url = String(gw.info.graphqlUrl);
      const pool = await Pool.open(String(gw.info.url), 50);
      const start = async () => {
        const { body } = await pool.json<any>(url, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
        return String(body.data.startUnify.flow.id);
      };
      const id = await start();
      const cpu0 = await cpuMs(gw);
      const result = await load(String(gw.info.url), buildRequest(url, JSON.stringify({ query: print(FlowDocument), variables: { id } })), { connections: 32, durationMs: 3_000, warmupMs: 1_000 });
      rps[name]!.push(result.perSecond);
      // CPU per request is steadier than throughput on a shared machine (the warm-up is included).
      const perRequest = ((await cpuMs(gw)) - cpu0) / (result.requests * (4_000 / 3_000));
      cpuUs[name]!.push(perRequest * 1000);
      const times: number[] = [];
      const cpu1 = await cpuMs(gw);
      await Promise.all(Array.from({ length: 50 }, async () => {
        for (let i = 0; i < 6; i++) {
          const t0 = performance.now();
          const flowId = await start();
          await pool.json(url, { query: 'query($id: ID!) { unifyStatus(flowId: $id) { __typename } }', variables: { id: flowId } });
          times.push(performance.now() - t0);
        }
      }));
      flowMs[name]!.push(median(times));
      flowCpuUs[name]!.push((((await cpuMs(gw)) - cpu1) / times.length) * 1000);
      pool.close();
      console.log(`round ${r + 1} ${name}: flow(id) ${result.perSecond.toFixed(0)} req/s, ${cpuUs[name]!.at(-1)!.toFixed(0)} µs CPU/request; whole flow median ${median(times).toFixed(1)} ms, ${flowCpuUs[name]!.at(-1)!.toFixed(0)} µs CPU/flow`);
    }
  }
  for (const name of ['before', 'after']) {
    console.log(
      `${name}: flow(id) ${median(rps[name]!).toFixed(0)} req/s, ${median(cpuUs[name]!).toFixed(0)} µs CPU/request; ` +
        `whole flow (50 concurrent) ${median(flowMs[name]!).toFixed(1)} ms, ${median(flowCpuUs[name]!).toFixed(0)} µs gateway CPU/flow (medians of rounds)`,
    );
  }
} finally {
  await stopAll(children);
}
process.exit(0);
