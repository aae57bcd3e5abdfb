import type { Child } from './lib/children.js';
import { percentile } from './lib/http.js';
import { subscribeAll } from './lib/subscribers.js';
import type { Row } from './report.js';

/**
 * The events rows: 1,000 subscribers (one WebSocket each) while stored changes are made at
 * 1,000/s, on one instance and across two via Redis. The gateway child (bench/servers/gateway.ts)
 * seeds the flows and makes the changes as FlowService.commit does: save, then publish.
 */

export interface EventBenchContext {
  child(script: string, options: { env: Record<string, string> }): Promise<Child>;
  stop(...children: (Child | undefined)[]): Promise<void>;
  gatewayEnv(emulatorUrl: string, extra?: Record<string, string>): Record<string, string>;
  log(line: string): void;
  emulatorUrl: string;
  redisUrl: string;
  redisCluster: boolean;
  /** How long changes are made, per row. */
  eventsMs: number;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');

interface EventFigures {
  p50: number;
  p99: number;
  published: number;
  /** Changes a subscriber received one by one. */
  received: number;
  /** Subscribers whose last message is not their flow's stored state once the deliveries stopped: lost. */
  stale: number;
}

/**
 * A subscriber re-reads its flow on each notification, so a change still on its way when the next
 * one is stored arrives as the newer state only: published - received changes were superseded,
 * not lost, if every subscriber ends at its flow's last state (stale 0).
 */
async function measureEvents(publisher: Child, subscriberHost: Child, flows: number, eventsMs: number): Promise<EventFigures> {
  const ids = await publisher.call<string[]>('seed', { count: flows });
  const latencies: { at: number; ms: number }[] = [];
  const lastSeen = new Map<string, number>();
  const subscribers = await subscribeAll(String(subscriberHost.info.graphqlUrl).replace(/^http/, 'ws'), ids, 100, {
    onUpdate: (receivedAt, updatedAt, flowId) => {
      latencies.push({ at: receivedAt, ms: receivedAt - updatedAt });
      lastSeen.set(flowId, updatedAt);
    },
  });
  try {
    const started = Date.now();
    const { published, failed } = await publisher.call<{ published: number; failed: number }>('publish', { ids, rate: 1000, durationMs: eventsMs }, eventsMs + 30_000);
    if (failed) throw new Error(`${failed} stored changes failed`);
    // Deliveries still under way finish: wait until none arrived for a second (at most 15 s).
    for (let quiet = 0, seen = -1, waited = 0; quiet < 4 && waited < 60; waited++) {
      quiet = latencies.length === seen ? quiet + 1 : 0;
      seen = latencies.length;
      await new Promise((r) => setTimeout(r, 250));
    }
    const stored = await publisher.call<Record<string, number | null>>('updatedAt', { ids });
    const stale = ids.filter((id) => lastSeen.get(id) !== stored[id]).length;
    // The first second is warm-up (JIT, connection buffers).
    const counted = latencies.filter((l) => l.at >= started + 1_000).map((l) => l.ms).sort((a, b) => a - b);
    return { p50: percentile(counted, 0.5), p99: percentile(counted, 0.99), received: latencies.length, published, stale };
  } finally {
    for (const s of subscribers) s.close();
  }
}

const deliveries = (r: EventFigures) =>
  `${r.received} of ${r.published} changes delivered one by one, ${r.published - r.received} superseded by a newer change before delivery; ${r.stale} subscribers not at their flow's last state after the deliveries stopped`;

export async function eventRows({ child, stop, gatewayEnv, log, emulatorUrl, redisUrl, redisCluster, eventsMs }: EventBenchContext): Promise<Row[]> {
  const flows = 1_000;
  const rows: Row[] = [];
  const single = await child('gateway', { env: gatewayEnv(emulatorUrl) });
  try {
    const r = await measureEvents(single, single, flows, eventsMs);
    log(`  one instance: p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.received}/${r.published} delivered, ${r.stale} stale`);
    rows.push({
      goal: 'event to subscriber, p99, at 1,000 events/s, one instance',
      target: '<= 25 ms',
      measured: `**${fmt(r.p99)} ms** (p50 ${fmt(r.p50)} ms)`,
      reference: deliveries(r),
      met: r.p99 <= 25 && r.received === r.published && r.stale === 0,
      notes: `${flows} subscribers (one WebSocket each, one flow each); the gateway process makes 1,000 stored changes per second (save, then publish, as FlowService.commit does) for ${eventsMs / 1000} s; latency = receipt time - the change's updatedAt (same clock, ms resolution); the first second is not counted. Memory store and pub/sub.`,
    });
  } finally {
    await stop(single);
  }
  const redisEnv = { REDIS_URL: redisUrl, ...(redisCluster && { REDIS_CLUSTER: 'on' }) };
  const a = await child('gateway', { env: gatewayEnv(emulatorUrl, redisEnv) });
  const b = await child('gateway', { env: gatewayEnv(emulatorUrl, redisEnv) });
  try {
    const r = await measureEvents(a, b, flows, eventsMs);
    log(`  two instances: p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.received}/${r.published} delivered, ${r.stale} stale`);
    rows.push({
      goal: 'event to subscriber, p99, at 1,000 events/s, across two instances via Redis',
      target: '<= 50 ms',
      measured: `**${fmt(r.p99)} ms** (p50 ${fmt(r.p50)} ms)`,
      reference: deliveries(r),
      met: r.p99 <= 50 && r.received === r.published && r.stale === 0,
      notes: `As above, with the changes made on instance A and the ${flows} subscribers on instance B; store and pub/sub in Redis (${redisUrl}${redisCluster ? ', a Redis Cluster: sharded pub/sub' : ''}).`,
    });
  } finally {
    await stop(a, b);
  }
  return rows;
}
