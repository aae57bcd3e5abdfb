import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { print } from 'graphql';
import { StartUnifyDocument, UnifyStatusDocument } from '../test/generated/graphql.js';
import { createProveClient } from '../src/prove/index.js';
import type { Child } from './lib/children.js';
import { Pool, median, percentile } from './lib/http.js';
import { closedLoop, type Flow } from './lib/cpu-per-flow.js';
import type { Row } from './report.js';

/**
 * Whole flows (startUnify + unifyStatus) through the gateway, beside the same two Prove calls made
 * without it: CPU per flow against a plain node:http handler calling the adapter
 * (bench/servers/direct-adapter.ts), and the latency the gateway adds at Prove's rate, open loop.
 * Sandbox user 2001004018 passes with no device step, so a flow is exactly two Prove calls.
 */

export interface FlowBenchContext {
  /** The shared gateway (PROVE_RATE_LIMIT=10000: these rows measure the gateway, not the 25/s budget). */
  gateway: Child;
  emulatorUrl: string;
  child(script: string, options: { args?: Record<string, unknown> }): Promise<Child>;
  stop(...children: (Child | undefined)[]): Promise<void>;
  rounds: number;
  quick: boolean;
  log(line: string): void;
}

const PHONE = '2001004018';
const DOCS = { start: print(StartUnifyDocument), status: print(UnifyStatusDocument) };
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const load1 = () => loadavg()[0]!.toFixed(2);

type Any = Record<string, any>;

async function cpuMs(c: Child): Promise<number> {
  const { cpu } = await c.call<{ cpu: { user: number; system: number } }>('usage');
  return (cpu.user + cpu.system) / 1000;
}

/** One whole flow through the gateway: startUnify, then unifyStatus (VERIFIED). */
function gatewayFlow(pool: Pool, graphqlUrl: string): Flow {
  const gql = async (query: string, variables: Any): Promise<Any> => {
    const { status, body } = await pool.json<{ data?: Any; errors?: unknown[] }>(graphqlUrl, { query, variables });
    if (status !== 200 || body.errors || !body.data) throw new Error(`gateway ${status}: ${JSON.stringify(body)}`);
    return body.data;
  };
  return async () => {
    const started = (await gql(DOCS.start, { input: { possessionType: 'MOBILE', phoneNumber: PHONE } })).startUnify;
    if (started.__typename !== 'StartUnifyPayload') throw new Error(`start: ${JSON.stringify(started)}`);
    const result = (await gql(DOCS.status, { flowId: started.flow.id })).unifyStatus;
    if (result.flow?.state !== 'VERIFIED') throw new Error(`status: ${JSON.stringify(result)}`);
  };
}

/** The same two Prove calls through the plain node:http reference. */
function directServerFlow(pool: Pool, url: string): Flow {
  return async () => {
    const clientRequestId = randomUUID();
    const started = await pool.json<Any>(`${url}/start`, { phoneNumber: `+1${PHONE}`, clientRequestId });
    if (started.status !== 200) throw new Error(`direct start ${started.status}: ${JSON.stringify(started.body)}`);
    const outcome = await pool.json<Any>(`${url}/status`, { correlationId: started.body.correlationId, clientRequestId });
    if (outcome.body.success !== 'true') throw new Error(`direct status ${JSON.stringify(outcome.body)}`);
  };
}

/**
 * Runs `work` with a pool of fresh keep-alive connections to `url`, closed after: a connection left
 * idle through the other paths' phases would meet the server's idle and header timeouts.
 */
async function withPool<T>(url: string, size: number, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = await Pool.open(url, size);
  try {
    return await work(pool);
  } finally {
    pool.close();
  }
}

export async function cpuPerFlowRow(ctx: FlowBenchContext): Promise<Row> {
  const { gateway, log } = ctx;
  const direct = await ctx.child('direct-adapter', { args: { emulatorUrl: ctx.emulatorUrl } });
  const flows = ctx.quick ? 150 : 400;
  try {
    const targets = [
      { name: 'direct', server: direct, url: String(direct.info.url), flow: (pool: Pool) => directServerFlow(pool, String(direct.info.url)) },
      { name: 'gateway', server: gateway, url: String(gateway.info.url), flow: (pool: Pool) => gatewayFlow(pool, String(gateway.info.graphqlUrl)) },
    ];
    for (const t of targets) await withPool(t.url, 16, (pool) => closedLoop(t.flow(pool), 50, 16));
    const perFlow = new Map<string, number[]>();
    const rate = new Map<string, number[]>();
    for (let round = 0; round < ctx.rounds; round++) {
      for (const t of targets) {
        const { cpu, seconds } = await withPool(t.url, 16, async (pool) => {
          const before = await cpuMs(t.server);
          const t0 = performance.now();
          await closedLoop(t.flow(pool), flows, 16);
          const seconds = (performance.now() - t0) / 1000;
          return { cpu: ((await cpuMs(t.server)) - before) / flows, seconds };
        });
        perFlow.set(t.name, [...(perFlow.get(t.name) ?? []), cpu]);
        rate.set(t.name, [...(rate.get(t.name) ?? []), flows / seconds]);
        log(`  ${t.name}: ${fmt(cpu, 3)} ms CPU per flow, ${fmt(flows / seconds)} flows/s`);
      }
    }
    const cpu = { direct: median(perFlow.get('direct')!), gateway: median(perFlow.get('gateway')!) };
    // Each round's pair ran back to back under the same host load: the median of their ratios, not the ratio of medians.
    const ratio = median(perFlow.get('gateway')!.map((g, i) => g / perFlow.get('direct')![i]!));
    return {
      goal: 'gateway CPU per whole flow (startUnify + unifyStatus) vs a plain node:http handler calling the Prove adapter directly',
      target: '<= 1.5x',
      measured: `**${fmt(ratio, 2)}x** (gateway ${fmt(cpu.gateway, 3)} ms CPU per flow)`,
      reference: `node:http + adapter: ${fmt(cpu.direct, 3)} ms CPU per flow; flows/s: gateway ${fmt(median(rate.get('gateway')!))}, direct ${fmt(median(rate.get('direct')!))}`,
      met: ratio <= 1.5,
      notes: `${flows} flows per round, 16 at a time (closed loop), ${ctx.rounds} interleaved rounds after 50 warm-up flows each; the ratio is the median of the rounds' ratios (each round's pair ran back to back under the same host load), the CPU figures the medians. CPU: the server process's own (user + system) over the round, divided by its flows; the emulator's is not counted. The reference (bench/servers/direct-adapter.ts) takes \`POST /start\` and \`POST /status\` as JSON and calls src/prove's adapter: the same two Prove calls, no GraphQL, store, limits or budget. The gateway: production mode, the memory store, PROVE_RATE_LIMIT=10000, the full test documents (FlowFields). Load average (1 min) at the end: ${load1()}.`,
    };
  } finally {
    await ctx.stop(direct);
  }
}

/**
 * Flows started on a fixed schedule, `perSecond`, for `seconds`, whatever the previous ones do
 * (open loop): each flow's time is counted from its scheduled start, so a stall shows as latency
 * rather than as fewer flows.
 */
async function openLoop(flow: Flow, perSecond: number, seconds: number): Promise<number[]> {
  const interval = 1000 / perSecond;
  const count = Math.round(perSecond * seconds);
  const times: number[] = [];
  const failures: unknown[] = [];
  const running: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(flow().then(() => void times.push(performance.now() - due), (error: unknown) => void failures.push(error)));
  }
  await Promise.all(running);
  if (failures.length) throw new Error(`${failures.length} of ${count} flows failed, the first: ${(failures[0] as Error).message}`);
  return times.sort((a, b) => a - b);
}

export async function openLoopRow(ctx: FlowBenchContext): Promise<Row> {
  const { gateway, log } = ctx;
  const perSecond = 25;
  const seconds = ctx.quick ? 3 : 5;
  const adapter = createProveClient({ serverURL: ctx.emulatorUrl, clientId: 'emulator-client', clientSecret: 'emulator-secret' });
  const direct = await ctx.child('direct-adapter', { args: { emulatorUrl: ctx.emulatorUrl } });
  try {
    const adapterFlow: Flow = async () => {
      const clientRequestId = randomUUID();
      const started = await adapter.unify({ possessionType: 'mobile', phoneNumber: `+1${PHONE}`, clientRequestId });
      const outcome = await adapter.unifyStatus({ correlationId: started.correlationId, clientRequestId });
      if (outcome.success !== 'true') throw new Error(`adapter status ${outcome.success}`);
    };
    // Each phase over its own fresh connections (withPool); the adapter keeps its own pool to the emulator.
    const targets: { name: string; run: (work: (flow: Flow) => Promise<number[] | void>) => Promise<number[] | void> }[] = [
      { name: 'adapter', run: (work) => work(adapterFlow) },
      { name: 'gateway', run: (work) => withPool(String(gateway.info.url), 8, (pool) => work(gatewayFlow(pool, String(gateway.info.graphqlUrl)))) },
      { name: 'node:http + adapter', run: (work) => withPool(String(direct.info.url), 8, (pool) => work(directServerFlow(pool, String(direct.info.url)))) },
    ];
    for (const t of targets) await t.run((flow) => closedLoop(flow, 50, 4));
    const times = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const medians = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const loads = [load1()];
    for (let round = 0; round < ctx.rounds; round++) {
      for (const t of targets) {
        const r = (await t.run((flow) => openLoop(flow, perSecond, seconds))) as number[];
        times.get(t.name)!.push(...r);
        medians.get(t.name)!.push(percentile(r, 0.5));
        log(`  ${t.name}: p50 ${fmt(percentile(r, 0.5), 2)} ms, p99 ${fmt(percentile(r, 0.99), 2)} ms (${r.length} flows)`);
      }
    }
    loads.push(load1());
    const stat = (name: string) => {
      const all = [...times.get(name)!].sort((a, b) => a - b);
      return { p50: median(medians.get(name)!), p99: percentile(all, 0.99), n: all.length };
    };
    const a = stat('adapter');
    const g = stat('gateway');
    const h = stat('node:http + adapter');
    // Each round ran its three paths back to back under the same host load: the median of the rounds' differences.
    const added = median(medians.get('gateway')!.map((m, i) => m - medians.get('adapter')![i]!));
    const signed = (n: number) => `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n), 2)}`;
    return {
      goal: 'open loop at 25 flows/s (Prove\'s rate): startUnify + unifyStatus through the gateway vs the same calls with the adapter directly',
      target: '<= 2 ms added at the median; p99 beside the direct p99',
      measured: `**${signed(added)} ms** at the median (gateway p50 ${fmt(g.p50, 2)} ms, **p99 ${fmt(g.p99, 2)} ms**)`,
      reference: `adapter directly: p50 ${fmt(a.p50, 2)} ms, **p99 ${fmt(a.p99, 2)} ms**; node:http + adapter (the same calls behind one HTTP hop each): p50 ${fmt(h.p50, 2)} ms, p99 ${fmt(h.p99, 2)} ms`,
      met: added <= 2,
      notes: `${perSecond} flows/s started on a fixed schedule (open loop: a flow's time runs from its scheduled start, so a stall is latency, not fewer flows) for ${seconds} s per path per round, ${ctx.rounds} interleaved rounds (${g.n} flows per path); the added median is the median of the rounds' differences between the gateway's and the adapter's medians (each round's paths ran back to back under the same host load), each path's p50 the median of its rounds' medians, its p99 over all its flows. The adapter runs in the bench process (what "calling the adapter directly" costs a backend); the gateway in production mode with the memory store and PROVE_RATE_LIMIT=10000 (25 flows/s are 50 Prove calls/s: the default budget of 25 would queue them, which is the budget's job, not overhead). Sandbox user 2001004018, the full test documents. Replaces the closed-loop row of 50 concurrent flows, which measured capacity (Little's law), not added latency. Load average (1 min): ${loads.join(' at the start, ')} at the end.`,
    };
  } finally {
    await ctx.stop(direct);
  }
}
