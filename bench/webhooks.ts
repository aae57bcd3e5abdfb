import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import { StartUnifyDocument, UnifyStatusDocument } from '../test/generated/graphql.js';
import type { Child } from './lib/children.js';
import { Pool, median, percentile } from './lib/http.js';
import type { Row } from './report.js';

/**
 * The webhook rows: delivery latency from the transition to a receiver at a paced 100
 * transitions/s, and what webhooks cost a gateway's whole-flow throughput (on vs off, side by
 * side, alternating rounds). Both gateways in Redis mode, as a deployment with durable webhooks runs.
 */

export interface WebhookBenchContext {
  child(script: string, options: { env: Record<string, string> }): Promise<Child>;
  stop(...children: (Child | undefined)[]): Promise<void>;
  gatewayEnv(emulatorUrl: string, extra?: Record<string, string>): Record<string, string>;
  emulatorUrl: string;
  redisUrl: string;
  quick: boolean;
  log(line: string): void;
}

const START = print(StartUnifyDocument);
const STATUS = print(UnifyStatusDocument);
const RATE = 100;

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A receiver in this process: answers 204 at once and notes when each event arrived. */
async function receiver(): Promise<{ url: string; arrivals: Map<string, { at: number; updatedAt: number }>; duplicates: () => number; close(): Promise<void> }> {
  const arrivals = new Map<string, { at: number; updatedAt: number }>();
  let duplicates = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const at = Date.now();
      const id = String(req.headers['webhook-id']);
      if (arrivals.has(id)) duplicates++;
      else arrivals.set(id, { at, updatedAt: Date.parse((JSON.parse(body) as { data: { updatedAt: string } }).data.updatedAt) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    duplicates: () => duplicates,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function gql(pool: Pool, url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const { status, body } = await pool.json<{ data?: any; errors?: unknown }>(url, { query, variables });
  if (status !== 200 || !body.data) throw new Error(`GraphQL ${status}: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * Sends again while the upstream budget refuses (RateLimitedError, UpstreamError): under a burst on
 * a loaded machine a call can miss its slot, and a client retries it. Counted in `refusals`.
 */
let refusals = 0;
async function budgeted(call: () => Promise<any>): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const result = await call();
    if (!['RateLimitedError', 'UpstreamError'].includes(result.__typename) || attempt === 20) return result;
    refusals++;
    await new Promise((r) => setTimeout(r, 20 * attempt));
  }
}

const startFlow = async (pool: Pool, url: string): Promise<string> => {
  const started = await budgeted(async () => (await gql(pool, url, START, { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } })).startUnify);
  if (started.__typename !== 'StartUnifyPayload') throw new Error(`start: ${JSON.stringify(started)}`);
  return started.flow.id;
};

const askStatus = async (pool: Pool, url: string, flowId: string) => {
  const result = await budgeted(async () => (await gql(pool, url, STATUS, { flowId })).unifyStatus);
  if (result.flow?.state !== 'VERIFIED') throw new Error(`status: ${JSON.stringify(result)}`);
};

const cpuMs = async (c: Child) => {
  const { cpu } = await c.call<{ cpu: { user: number; system: number } }>('usage');
  return (cpu.user + cpu.system) / 1000;
};

async function until(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return probe();
}

export async function webhookRows(ctx: WebhookBenchContext): Promise<Row[]> {
  const sink = await receiver();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const base = { REDIS_URL: ctx.redisUrl, PROVE_RATE_LIMIT: '10000' };
  const on = await ctx.child('gateway', { env: ctx.gatewayEnv(ctx.emulatorUrl, { ...base, WEBHOOK_URL: sink.url, WEBHOOK_SECRET: secret, WEBHOOK_ALLOW_HTTP: 'on' }) });
  const off = await ctx.child('gateway', { env: ctx.gatewayEnv(ctx.emulatorUrl, base) });
  const pools = new Map<Child, Pool>();
  try {
    pools.set(on, await Pool.open(String(on.info.url), 32));

    // 1. Latency: flows started beforehand, then their unifyStatus calls (each one transition) paced at 100/s.
    const seconds = ctx.quick ? 3 : 10;
    const onUrl = String(on.info.graphqlUrl);
    const pool = pools.get(on)!;
    const warm = await Promise.all(Array.from({ length: 50 }, () => startFlow(pool, onUrl)));
    await Promise.all(warm.map((id) => askStatus(pool, onUrl, id)));
    const ids: string[] = [];
    for (let i = 0; i < RATE * seconds; i += 50) ids.push(...(await Promise.all(Array.from({ length: 50 }, () => startFlow(pool, onUrl)))));
    await until(() => sink.arrivals.size >= warm.length, 10_000);
    sink.arrivals.clear();
    const t0 = performance.now();
    let late = 0;
    await Promise.all(
      ids.map(async (id, i) => {
        const due = t0 + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else if (wait < -50) late++;
        await askStatus(pool, onUrl, id);
      }),
    );
    const all = await until(() => sink.arrivals.size >= ids.length, 30_000);
    // The rate the transitions were stored at (a saturated gateway stores them slower than they are asked for).
    const stamps = [...sink.arrivals.values()].map((a) => a.updatedAt);
    const paced = ((stamps.length - 1) / (Math.max(...stamps) - Math.min(...stamps))) * 1000;
    const lags = [...sink.arrivals.values()].map((a) => a.at - a.updatedAt).sort((a, b) => a - b);
    const p50 = percentile(lags, 0.5);
    const p99 = percentile(lags, 0.99);
    // The sink goes on counting the next row's deliveries: this row's count is taken now.
    const delivered = sink.arrivals.size;
    ctx.log(`  webhooks: ${sink.arrivals.size}/${ids.length} delivered, transitions stored at ${fmt(paced)}/s, p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, ${sink.duplicates()} duplicates, ${late} calls late by > 50 ms`);

    // 2. Cost: whole flows (start + unifyStatus, 32 concurrent) on each gateway, alternating rounds.
    // Opened now: a connection that sends nothing is closed by the gateway's headers timeout
    // (HTTP_HEADERS_TIMEOUT, against slowloris), and phase 1 takes longer than that.
    pools.set(off, await Pool.open(String(off.info.url), 32));
    const rounds = ctx.quick ? 2 : 4;
    const roundMs = ctx.quick ? 1_500 : 3_000;
    const rate = new Map<Child, number[]>([[on, []], [off, []]]);
    const cpu = new Map<Child, number[]>([[on, []], [off, []]]);
    for (let r = 0; r < rounds; r++) {
      for (const gw of r % 2 ? [off, on] : [on, off]) {
        const url = String(gw.info.graphqlUrl);
        const p = pools.get(gw)!;
        const cpu0 = await cpuMs(gw);
        const arrived = sink.arrivals.size;
        let flows = 0;
        const end = performance.now() + roundMs;
        const t = performance.now();
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (performance.now() < end) {
              const id = await startFlow(p, url);
              await askStatus(p, url, id);
              flows++;
            }
          }),
        );
        const elapsed = performance.now() - t;
        // The deliveries these flows queued are part of their cost: let them finish before reading the CPU.
        if (gw === on) await until(() => sink.arrivals.size >= arrived + flows, 20_000);
        rate.get(gw)!.push((flows / elapsed) * 1000);
        cpu.get(gw)!.push(((await cpuMs(gw)) - cpu0) / flows);
      }
    }
    const onRate = median(rate.get(on)!);
    const offRate = median(rate.get(off)!);
    const onCpu = median(cpu.get(on)!);
    const offCpu = median(cpu.get(off)!);
    if (refusals) ctx.log(`  ${refusals} calls refused by the upstream budget and sent again`);
    ctx.log(`  whole flows/s: webhooks on ${fmt(onRate)}, off ${fmt(offRate)} (${fmt(onRate / offRate, 2)}); gateway CPU per flow on ${fmt(onCpu, 2)} ms, off ${fmt(offCpu, 2)} ms`);
    return [
      {
        goal: 'webhook delivery latency, from the transition to the receiver, at 100 transitions/s (Redis, BullMQ)',
        target: 'every transition delivered once; p50/p99 reported',
        measured: `**p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms**; ${delivered}/${ids.length} delivered, ${sink.duplicates()} twice (here and in the next row's flows)`,
        reference: `asked at 100/s, stored at ${fmt(paced)} transitions/s${late ? ` (${late} calls sent more than 50 ms late)` : ''}${refusals ? `; ${refusals} calls refused by the upstream budget and sent again` : ''}`,
        met: all && sink.duplicates() === 0,
        notes: `${ids.length} MOBILE flows (sandbox 2001004018) started beforehand; their unifyStatus calls, each one PENDING -> VERIFIED transition, sent at 100/s for ${seconds} s to one gateway (production mode, Redis at BENCH_REDIS_URL, WEBHOOK_URL to a node:http receiver in the bench process answering 204 at once). Latency: the receiver's clock at arrival minus the event's data.updatedAt (the transition's stored time; one machine, one clock).`,
      },
      {
        goal: 'throughput cost of webhooks: whole flows (startUnify + unifyStatus) per second, webhooks on vs off',
        target: 'reported side by side',
        measured: `**on ${fmt(onRate)}/s vs off ${fmt(offRate)}/s (${fmt(onRate / offRate, 2)})**`,
        reference: `gateway CPU per flow: on ${fmt(onCpu, 2)} ms, off ${fmt(offCpu, 2)} ms (+${fmt(onCpu - offCpu, 2)} ms for queueing, signing and sending one event)`,
        met: true,
        notes: `Two gateways in Redis mode at once, one with WEBHOOK_URL set and one without; 32 concurrent whole flows on each for ${roundMs / 1000} s, ${rounds} rounds alternating which goes first; medians of rounds. CPU per flow is the gateway process's (its BullMQ worker included), steadier than the rate on a shared machine.`,
      },
    ];
  } finally {
    for (const p of pools.values()) p.close();
    await ctx.stop(on, off);
    await sink.close();
  }
}
