import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { FlowDocument, StartUnifyDocument } from '../test/generated/graphql.js';
import { build, startChild, stopAll, type Child } from './lib/children.js';
import { Pool, buildRequest, load, median } from './lib/http.js';
import type { Row } from './report.js';

/**
 * The cost of tracing, side by side in one run: the gateway of the last commit before tracing
 * existed (a git worktree, built like this checkout: "no tracing code"), this gateway with tracing
 * off (no OTLP endpoint), and this gateway with tracing on at 100% sampling, exporting OTLP
 * http/json to a collector stand-in (a bare node:http child answering `{}`). Each is loaded in
 * turn, in alternating order per round: `flow(id)` throughput and CPU per request, and whole flows
 * (startUnify + unifyStatus, 50 concurrent) for CPU per flow.
 *
 * BENCH_TRACING_BASE=/path/to/worktree names the baseline checkout instead.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TracingRowOptions {
  /** The gateway's environment (production mode, the emulator child as Prove). */
  env: Record<string, string>;
  rounds: number;
  loadMs: number;
  warmupMs: number;
  log: (line: string) => void;
}

export const TRACING_ROW = {
  goal: 'Tracing cost: off vs no tracing code; on at 100% sampling',
  target: 'off: no measurable difference',
};

/** A worktree of the commit before tracing.ts was added, with this checkout's node_modules. */
function baselineCheckout(): string {
  const given = process.env.BENCH_TRACING_BASE;
  if (given) return given.replace(/\/$/, '');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  const added = git('log', '--diff-filter=A', '--format=%H', '--', 'src/observability/tracing.ts').split('\n').at(-1);
  if (!added) throw new Error('no commit adds src/observability/tracing.ts');
  const dir = mkdtempSync(join(tmpdir(), 'unify-bench-no-tracing-'));
  git('worktree', 'add', '--detach', dir, `${added}^`);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const cpuMs = async (c: Child) => {
  const { cpu } = await c.call<{ cpu: { user: number; system: number } }>('usage');
  return (cpu.user + cpu.system) / 1000;
};

/** Settings added after the baseline commit: it refuses variables it does not know, so it is started without them. */
const NEWER_SETTINGS = new Set(['START_LIMIT_PER_NUMBER_ALL', 'START_LIMIT_PER_NUMBER_TRUSTED']);

/** The host's 1-minute load average: on a shared machine the figures mean little without it. */
const load1 = () => loadavg()[0]!.toFixed(2);

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export async function tracingRow({ env, rounds, loadMs, warmupMs, log }: TracingRowOptions): Promise<Row> {
  const base = baselineCheckout();
  const ownWorktree = !process.env.BENCH_TRACING_BASE;
  const children: Child[] = [];
  try {
    const baseBench = `${base}/bench/`;
    if (!build(baseBench)) log(`  ${base}: no tsconfig.build.json, its gateway runs under tsx`);
    const collector = await startChild('bare-http', { env: { NODE_ENV: 'production' }, args: { body: '{}' } });
    children.push(collector);
    const none = await startChild('gateway', { env: Object.fromEntries(Object.entries(env).filter(([k]) => !NEWER_SETTINGS.has(k))), benchDir: baseBench });
    const off = await startChild('gateway', { env });
    const on = await startChild('gateway', {
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: String(collector.info.url), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on' },
    });
    children.push(none, off, on);
    const gateways = [['no tracing code', none], ['tracing off', off], ['tracing on, 100%', on]] as const;
    const results = new Map<string, { rps: number[]; cpuUs: number[]; flowCpuUs: number[] }>(gateways.map(([n]) => [n, { rps: [], cpuUs: [], flowCpuUs: [] }]));
    const loads = [load1()];
    log(`  load average (1 min) at the start: ${loads[0]}`);
    for (let round = 0; round < rounds; round++) {
      for (const [name, gw] of round % 2 ? [...gateways].reverse() : gateways) {
        const url = String(gw.info.graphqlUrl);
        const pool = await Pool.open(String(gw.info.url), 50);
        try {
          const start = async () => {
            const { body } = await pool.json<any>(url, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
            return String(body.data.startUnify.flow.id);
          };
          const id = await start();
          const cpu0 = await cpuMs(gw);
          const r = await load(String(gw.info.url), buildRequest(url, JSON.stringify({ query: print(FlowDocument), variables: { id } })), { connections: 32, durationMs: loadMs, warmupMs });
          if (r.errors || r.non2xx) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
          const row = results.get(name)!;
          row.rps.push(r.perSecond);
          row.cpuUs.push((((await cpuMs(gw)) - cpu0) / (r.requests * ((loadMs + warmupMs) / loadMs))) * 1000);
          const cpu1 = await cpuMs(gw);
          let flows = 0;
          await Promise.all(Array.from({ length: 50 }, async () => {
            for (let i = 0; i < 4; i++) {
              const flowId = await start();
              await pool.json(url, { query: 'query($id: ID!) { unifyStatus(flowId: $id) { __typename } }', variables: { id: flowId } });
              flows++;
            }
          }));
          row.flowCpuUs.push((((await cpuMs(gw)) - cpu1) / flows) * 1000);
          log(`  ${name}: flow(id) ${fmt(r.perSecond)} req/s, ${fmt(row.cpuUs.at(-1)!)} µs CPU/request; ${fmt(row.flowCpuUs.at(-1)!)} µs CPU/flow`);
        } finally {
          pool.close();
        }
      }
    }
    loads.push(load1());
    log(`  load average (1 min) at the end: ${loads[1]}`);
    const m = (name: string, key: 'rps' | 'cpuUs' | 'flowCpuUs') => median(results.get(name)![key]);
    // Run-to-run noise: how far the baseline's own rounds spread around their median.
    const baseRps = results.get('no tracing code')!.rps;
    const noise = rounds > 1 ? (Math.max(...baseRps) - Math.min(...baseRps)) / median(baseRps) : 0.05;
    const offRatio = m('tracing off', 'rps') / m('no tracing code', 'rps');
    const onRatio = m('tracing on, 100%', 'rps') / m('no tracing code', 'rps');
    const describe = (name: string) => `${name}: ${fmt(m(name, 'rps'))} req/s, ${fmt(m(name, 'cpuUs'))} µs CPU/request, ${fmt(m(name, 'flowCpuUs'))} µs CPU/flow`;
    return {
      ...TRACING_ROW,
      measured: `off **${fmt(offRatio, 3)}** of no-tracing throughput; on (100%) **${fmt(onRatio, 3)}**`,
      reference: gateways.map(([name]) => describe(name)).join('; '),
      met: Math.abs(offRatio - 1) <= Math.max(0.03, noise),
      notes:
        `flow(id) over 32 keep-alive connections and whole flows (startUnify + unifyStatus, 50 concurrent, 200 a round) to each gateway in turn, ` +
        `median of ${rounds} rounds in alternating order; baseline round-to-round spread ${fmt(noise * 100, 1)}%; host load average (1 min) ${loads[0]} at the start, ${loads[1]} at the end. "No tracing code": the commit before tracing was added, ` +
        'built the same way. Tracing on exports OTLP http/json to a local stand-in collector: every operation runs through the one envelop pipeline, where its span is made.',
    };
  } finally {
    await stopAll(children);
    if (ownWorktree) execFileSync('git', ['worktree', 'remove', '--force', base], { cwd: ROOT });
  }
}
