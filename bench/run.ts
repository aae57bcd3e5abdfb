import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build, startChild, stopAll, type Child } from './lib/children.js';
import { Pool, buildRequest, load, median, type LoadResult } from './lib/http.js';
import { subscribeAll, type Subscriber } from './lib/subscribers.js';
import { describeMachine } from './lib/machine.js';
import { renderReport, type Row } from './report.js';
import { TRACING_ROW, tracingRow } from './tracing.js';
import { budgetFairnessRow } from './budget-fairness.js';
import { webhookRows } from './webhooks.js';
import { cpuPerFlowRow, openLoopRow } from './flows.js';
import { eventRows } from './events.js';
import { burstRow, tokenAndCallsRows } from './prove-calls.js';
import { DOCS, startFlow } from './lib/graphql.js';

/**
 * `npm run bench`: every row of the performance table, side by side in one run, written to
 * BENCHMARKS.md. Servers under test (gateway, emulator, the two references) are child processes;
 * this process only generates load. Loopback only; every child is stopped by its pid.
 *
 * BENCH_QUICK=1 shortens every phase (for trying changes; the report says so).
 * BENCH_ONLY=throughput,cpu,openloop,subscriptions,events,token,calls,burst,tracing,fairness,webhooks runs some rows only (no report written).
 * BENCH_PROFILE=1 starts gateways with --cpu-prof into bench/.profiles/.
 * BENCH_REDIS_URL picks the Redis of the Redis rows; with BENCH_REDIS_CLUSTER=on it names a Redis
 * Cluster (the gateways get REDIS_CLUSTER=on: sharded pub/sub).
 */

const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const PROFILE_DIR = fileURLToPath(new URL('./.profiles/', import.meta.url));
/** Child scripts to run under --cpu-prof: BENCH_PROFILE=1 (the gateways) or a list such as gateway,emulator. */
const PROFILE = new Set((process.env.BENCH_PROFILE === '1' ? 'gateway' : process.env.BENCH_PROFILE ?? '').split(',').filter(Boolean));
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/5';
const REDIS_CLUSTER = process.env.BENCH_REDIS_CLUSTER === 'on';
const API_KEY = 'bench-api-key-0123456789abcdef';
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10_000);
/** The whole run is bounded: past this, children are killed and the run fails. */
const DEADLINE_MS = 9 * 60_000;

const T = {
  warmupMs: QUICK ? 500 : 1_500,
  loadMs: QUICK ? 1_500 : 4_000,
  rounds: QUICK ? 1 : 3,
  eventsMs: QUICK ? 2_000 : 6_000,
};

const children = new Set<Child>();
async function child(script: string, options: Parameters<typeof startChild>[1] = {}): Promise<Child> {
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (PROFILE.has(script)) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
  }
  const c = await startChild(script, { ...options, nodeArgs });
  children.add(c);
  return c;
}
async function stop(...list: (Child | undefined)[]) {
  await stopAll(list);
  for (const c of list) if (c) children.delete(c);
}

/**
 * Production mode, a standalone emulator, send limits out of the way (rows that test them set their own).
 * Every subscriber comes from 127.0.0.1, so the per-address live limits are raised to the subscriber
 * rows' count; the per-process defaults (20,000) hold.
 */
const gatewayEnv = (emulatorUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'production',
  PORT: '0',
  PROVE_BASE_URL: emulatorUrl,
  PROVE_CLIENT_ID: 'emulator-client',
  PROVE_CLIENT_SECRET: 'emulator-secret',
  GATEWAY_API_KEYS: API_KEY,
  START_LIMIT_PER_NUMBER: '1000000/1m',
  START_LIMIT_PER_NUMBER_ALL: '1000000/1m',
  START_LIMIT_PER_NUMBER_TRUSTED: '1000000/1m',
  START_LIMIT_PER_ADDRESS: '1000000/1m',
  LIMIT_CONNECTIONS_PER_ADDRESS: String(Math.max(SUBSCRIPTIONS, 1_000) + 1_000),
  LIMIT_SUBSCRIPTIONS_PER_ADDRESS: String(Math.max(SUBSCRIPTIONS, 1_000) + 1_000),
  ...extra,
});

const cpuMs = async (c: Child) => {
  const { cpu } = await c.call<{ cpu: { user: number; system: number } }>('usage');
  return (cpu.user + cpu.system) / 1000;
};

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const mb = (bytes: number) => bytes / 2 ** 20;

// ---------------------------------------------------------------------------------------------

interface Shared {
  emulator: Child;
  gateway: Child;
  pool: Pool;
}

async function throughputRow(shared: Shared): Promise<Row> {
  const { gateway, pool } = shared;
  const graphqlUrl = String(gateway.info.graphqlUrl);
  const { id } = await startFlow(pool, graphqlUrl, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
  const flowBody = JSON.stringify({ query: DOCS.flow, variables: { id }, operationName: 'Flow' });
  const answer = await pool.request(buildRequest(graphqlUrl, flowBody));
  if (answer.status !== 200 || !answer.body.includes(id)) throw new Error(`flow(id) answered ${answer.status}: ${answer.body}`);

  const bare = await child('bare-http', { env: { NODE_ENV: 'production' }, args: { body: answer.body } });
  const yoga = await child('bare-yoga', { env: { NODE_ENV: 'production' } });
  try {
    const targets = [
      { name: 'bare node:http', server: bare, raw: buildRequest(`${bare.info.url}/graphql`, flowBody) },
      { name: 'bare yoga { __typename }', server: yoga, raw: buildRequest(`${yoga.info.url}/graphql`, JSON.stringify({ query: '{ __typename }' })) },
      { name: 'gateway flow(id)', server: gateway, raw: buildRequest(graphqlUrl, flowBody) },
    ];
    const results = new Map<string, (LoadResult & { cpu: number })[]>();
    for (let round = 0; round < T.rounds; round++) {
      for (const target of targets) {
        const before = await cpuMs(target.server);
        const r = await load(String(target.server.info.url), target.raw, { connections: 32, durationMs: T.loadMs, warmupMs: T.warmupMs });
        const cpu = ((await cpuMs(target.server)) - before) / (T.loadMs + T.warmupMs);
        if (r.errors || r.non2xx) throw new Error(`${target.name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        results.set(target.name, [...(results.get(target.name) ?? []), { ...r, cpu }]);
        log(`  ${target.name}: ${fmt(r.perSecond)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, server CPU ${fmt(cpu * 100)}%`);
      }
    }
    const rps = (name: string) => median(results.get(name)!.map((r) => r.perSecond));
    const cpu = (name: string) => median(results.get(name)!.map((r) => r.cpu));
    const [bareRps, yogaRps, gatewayRps] = targets.map((t) => rps(t.name)) as [number, number, number];
    const ratio = gatewayRps / bareRps;
    // CPU per request (µs) holds where a starved server's throughput does not: on a host whose other
    // work takes the cores, req/s falls with the share each server gets, its CPU per request much less.
    const usPerRequest = (name: string) => median(results.get(name)!.map((r) => (r.cpu / r.perSecond) * 1e6));
    const [bareUs, gatewayUs] = [usPerRequest(targets[0]!.name), usPerRequest(targets[2]!.name)];
    return {
      goal: '`flow(id)` over HTTP vs a bare node:http server answering the same JSON',
      target: '>= 0.30 of its throughput',
      measured: `**${fmt(ratio, 3)}** (${fmt(gatewayRps)} req/s)`,
      reference: `bare node:http ${fmt(bareRps)} req/s; bare yoga \`{ __typename }\` ${fmt(yogaRps)} req/s (**${fmt(yogaRps / bareRps, 3)}**); server CPU per request: gateway ${fmt(gatewayUs)} µs, bare node:http ${fmt(bareUs)} µs (**${fmt(bareUs / gatewayUs, 3)}**, the ratio on a host with cores to spare)`,
      met: ratio >= 0.3,
      notes: `32 keep-alive connections, median of ${T.rounds} interleaved ${T.loadMs / 1000} s runs. Server CPU during the runs (1.0 = one core): bare ${fmt(cpu(targets[0]!.name), 2)}, yoga ${fmt(cpu(targets[1]!.name), 2)}, gateway ${fmt(cpu(targets[2]!.name), 2)}.`,
    };
  } finally {
    await stop(bare, yoga);
  }
}

async function subscriptionsRow(emulatorUrl: string): Promise<Row> {
  const gateway = await child('gateway', { env: gatewayEnv(emulatorUrl), nodeArgs: ['--expose-gc'] });
  let subscribers: Subscriber[] = [];
  try {
    const ids = await gateway.call<string[]>('seed', { count: SUBSCRIPTIONS });
    const idle = await gateway.call<number>('gc');
    const t0 = performance.now();
    subscribers = await subscribeAll(String(gateway.info.graphqlUrl).replace(/^http/, 'ws'), ids, 100);
    const openMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1_000));
    const { rss: raw } = await gateway.call<{ rss: number }>('usage');
    const held = await gateway.call<number>('gc');
    log(`  ${subscribers.length} subscriptions in ${fmt(openMs)} ms; gateway RSS idle ${fmt(mb(idle))} MB, held ${fmt(mb(raw))} MB (${fmt(mb(held))} MB after GC)`);
    return {
      goal: `${SUBSCRIPTIONS.toLocaleString('en')} graphql-ws subscriptions held by one process`,
      target: '<= 256 MB RSS in total',
      measured: `**${fmt(mb(raw))} MB** RSS (${fmt(mb(held))} MB after a GC)`,
      reference: `the same gateway idle with the flows stored: ${fmt(mb(idle))} MB; ${fmt(((held - idle) / subscribers.length / 1024), 1)} KiB per subscription`,
      met: mb(raw) <= 256 && subscribers.length === SUBSCRIPTIONS,
      notes: `One WebSocket per subscription (as browsers do), each watching its own flow; ${subscribers.length} received the flow as it stands. Flows seeded into the store (no Prove calls). Opened in ${fmt(openMs / 1000, 1)} s, 100 handshakes at a time.`,
    };
  } finally {
    for (const s of subscribers) s.close();
    await stop(gateway);
  }
}

// ---------------------------------------------------------------------------------------------

const logLines: string[] = [];
function log(line: string) {
  logLines.push(line);
  console.log(line);
}

async function measure(name: string, run: () => Promise<Row | Row[]>, fallback: Omit<Row, 'measured' | 'reference' | 'met' | 'notes'>[]): Promise<Row[]> {
  if (ONLY && !ONLY.has(name)) return [];
  log(`${name}…`);
  const t0 = performance.now();
  try {
    const rows = await run();
    log(`  (${fmt((performance.now() - t0) / 1000, 1)} s)`);
    return Array.isArray(rows) ? rows : [rows];
  } catch (error) {
    const reason = (error as Error).message;
    log(`  NOT MEASURED: ${reason}`);
    return fallback.map((f) => ({ ...f, measured: 'not measured', reference: '', met: undefined, notes: `Not measured: ${reason}` }));
  }
}

async function main() {
  // Children run compiled (node dist/bench/servers/*.js), as a production start does.
  build();
  const started = new Date();
  const loadAtStart = loadavg();
  const deadline = setTimeout(() => {
    console.error(`bench: over ${DEADLINE_MS / 60_000} minutes, stopping`);
    void stopAll(children).finally(() => process.exit(1));
  }, DEADLINE_MS);
  deadline.unref();
  const rows: Row[] = [];
  try {
    const emulator = await child('emulator', { args: { rateLimitPerSecond: 0 } });
    const emulatorUrl = String(emulator.info.url);
    const gateway = await child('gateway', { env: gatewayEnv(emulatorUrl, { PROVE_RATE_LIMIT: '10000' }) });
    const pool = await Pool.open(String(gateway.info.url), 4);
    const shared = { emulator, gateway, pool };
    const flowContext = { gateway, emulatorUrl, child, stop, rounds: T.rounds, quick: QUICK, log };
    const proveCalls = { child, stop, gatewayEnv, log, apiKey: API_KEY };
    rows.push(
      ...(await measure('throughput', () => throughputRow(shared), [
        { goal: '`flow(id)` over HTTP vs a bare node:http server answering the same JSON', target: '>= 0.30 of its throughput' },
      ])),
      ...(await measure('cpu', () => cpuPerFlowRow(flowContext), [
        { goal: 'gateway CPU per whole flow (startUnify + unifyStatus) vs a plain node:http handler calling the Prove adapter directly', target: '<= 1.5x' },
      ])),
      ...(await measure('openloop', () => openLoopRow(flowContext), [
        { goal: 'open loop at 25 flows/s (Prove\'s rate): startUnify + unifyStatus through the gateway vs the same calls with the adapter directly', target: '<= 2 ms added at the median; p99 beside the direct p99' },
      ])),
    );
    pool.close();
    await stop(gateway);
    rows.push(
      ...(await measure('subscriptions', () => subscriptionsRow(emulatorUrl), [
        { goal: `${SUBSCRIPTIONS.toLocaleString('en')} graphql-ws subscriptions held by one process`, target: '<= 256 MB RSS in total' },
      ])),
      ...(await measure('events', () => eventRows({ child, stop, gatewayEnv, log, emulatorUrl, redisUrl: REDIS_URL, redisCluster: REDIS_CLUSTER, eventsMs: T.eventsMs }), [
        { goal: 'event to subscriber, p99, at 1,000 events/s, one instance', target: '<= 25 ms' },
        { goal: 'event to subscriber, p99, at 1,000 events/s, across two instances via Redis', target: '<= 50 ms' },
      ])),
      ...(await measure('token', async () => {
        const [token, calls] = await tokenAndCallsRows(proveCalls, emulator);
        return [token!, calls!];
      }, [
        { goal: '`/token` requests under a cold burst of 200 starts', target: 'exactly 1' },
        { goal: 'Prove calls per completed flow', target: 'the minimum: 2, or 3 with bind' },
      ])),
      ...(await measure('burst', () => burstRow(proveCalls), [{ goal: 'upstream 429s under a 500-start burst', target: '0' }])),
      ...(await measure('tracing', () => tracingRow({ env: gatewayEnv(emulatorUrl, { PROVE_RATE_LIMIT: '10000' }), rounds: T.rounds, loadMs: T.loadMs, warmupMs: T.warmupMs, log }), [TRACING_ROW])),
      ...(await measure('fairness', () => budgetFairnessRow({ child, stop, gatewayEnv, log }), [
        { goal: 'Prove calls/s through the upstream budget with a CPU hog beside the gateway', target: '>= 20 of 25/s, 0 upstream 429s' },
      ])),
      ...(await measure('webhooks', () => webhookRows({ child, stop, gatewayEnv, emulatorUrl, redisUrl: REDIS_URL, quick: QUICK, log }), [
        { goal: 'webhook delivery latency, from the transition to the receiver, at 100 transitions/s', target: 'every transition delivered once; p50/p99 reported' },
        { goal: 'throughput cost of webhooks: whole flows per second, webhooks on vs off', target: 'reported side by side' },
      ])),
    );
  } finally {
    await stopAll(children);
    clearTimeout(deadline);
  }
  const elapsed = (Date.now() - started.getTime()) / 1000;
  log(`done in ${fmt(elapsed)} s`);
  if (ONLY) {
    console.log('(BENCH_ONLY: BENCHMARKS.md not written)');
    return;
  }
  const report = renderReport({ rows, machine: describeMachine(), date: started, elapsedSeconds: elapsed, quick: QUICK, load: { start: loadAtStart, end: loadavg() } });
  writeFileSync(fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url)), report);
  console.log('BENCHMARKS.md written');
}

await main();
process.exit(0);
