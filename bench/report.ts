import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Row {
  goal: string;
  target: string;
  measured: string;
  reference: string;
  /** undefined: not measured. */
  met: boolean | undefined;
  notes: string;
}

export interface Report {
  rows: Row[];
  machine: string;
  date: Date;
  elapsedSeconds: number;
  quick: boolean;
  /** The host's load averages (1, 5, 15 min) when the run started and ended. */
  load: { start: number[]; end: number[] };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** BENCHMARKS.md: the table, how it was measured, and the analysis kept beside the bench (bench/ANALYSIS.md). */
const loads = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');

export function renderReport({ rows, machine, date, elapsedSeconds, quick, load }: Report): string {
  const analysis = readFileSync(fileURLToPath(new URL('./ANALYSIS.md', import.meta.url)), 'utf8').trim();
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts); edit bench/ANALYSIS.md for the analysis, not this file. -->',
    '',
    `Measured ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}, in ${Math.round(elapsedSeconds)} s.` +
      (quick ? ' **Quick run (BENCH_QUICK=1): shortened phases, numbers are rough.**' : ''),
    `Load average (1 / 5 / 15 min): ${loads(load.start)} at the start, ${loads(load.end)} at the end.`,
    'Every row is measured side by side in this one run; the machine is shared and noisy, so compare ratios and',
    'orders of magnitude, not absolute times, across runs.',
    '',
    '| measure | target | measured | reference | met? |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.goal)} | ${cell(r.target)} | ${cell(r.measured)} | ${cell(r.reference)} | ${r.met === undefined ? 'not measured' : r.met ? 'yes' : '**no**'} |`),
    '',
    '## How each row is measured',
    '',
    ...rows.map((r) => `- **${r.goal}** — ${r.notes}`),
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    'redis-server --daemonize yes   # the two-instance row uses redis://127.0.0.1:6379/5 (BENCH_REDIS_URL to change)',
    'npm run bench                  # about 3 minutes; writes this file',
    '```',
    '',
    'Servers under test run in child processes, compiled first (`tsc -p tsconfig.build.json`, then `node dist/bench/servers/*.js`), each stopped by its pid;',
    'the bench process only generates load, with raw keep-alive HTTP/1.1 connections (bench/lib/http.ts) and one',
    'WebSocket per graphql-ws subscriber (bench/lib/subscribers.ts). Gateways run with `NODE_ENV=production`',
    'against a standalone emulator (`PROVE_BASE_URL`), as a deployment would; the two references too.',
    '`BENCH_QUICK=1` shortens every phase; `BENCH_ONLY=throughput,cpu,openloop,subscriptions,events,token,calls,burst,tracing,fairness,webhooks` runs',
    'some rows (and writes no report); `BENCH_PROFILE=1` writes a `--cpu-prof` profile per gateway into',
    '`bench/.profiles/`. `BENCH_REDIS_CLUSTER=on` with `BENCH_REDIS_URL` naming a node of a Redis Cluster runs the',
    'Redis rows on that cluster (the gateways get `REDIS_CLUSTER=on`).',
    '',
    analysis,
    '',
  ];
  return lines.join('\n');
}
