import { execFileSync } from 'node:child_process';
import { median } from './http.js';

/** One flow of whatever is measured (a Prove call pair, FlowService's start and refresh, a request pair). */
export type Flow = () => Promise<void>;

/** `count` flows, `concurrency` at a time, back to back (closed loop). */
export async function closedLoop(flow: Flow, count: number, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) await flow();
  }));
}

/**
 * This process's own CPU (user + system) per flow, in µs: `warmup` flows, then `flows` in 5
 * rounds, 16 at a time; the median of the rounds. For a worker process that runs nothing else.
 */
export async function cpuPerFlowHere(flow: Flow, { warmup, flows }: { warmup: number; flows: number }): Promise<number> {
  await closedLoop(flow, warmup, 16);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const before = process.cpuUsage();
    await closedLoop(flow, flows / 5, 16);
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / (flows / 5));
  }
  return median(rounds);
}

/**
 * Runs `script --worker <root> ...args` in a fresh process for each checkout, alternating their
 * order each time, and prints each figure and each checkout's median. The worker prints
 * `{"usPerFlow": n}` (cpuPerFlowHere's result) and nothing else on stdout.
 */
export function alternateCheckouts(script: string, roots: string[], alternations: number, args: string[] = []): void {
  const results = new Map<string, number[]>(roots.map((r) => [r, []]));
  for (let a = 0; a < alternations; a++) {
    for (const root of a % 2 ? [...roots].reverse() : roots) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--worker', root, ...args], { encoding: 'utf8' });
      const { usPerFlow } = JSON.parse(out) as { usPerFlow: number };
      results.get(root)!.push(usPerFlow);
      console.log(`${root}: ${usPerFlow.toFixed(1)} µs of CPU per flow`);
    }
  }
  for (const [root, values] of results) console.log(`${root}: median ${median(values).toFixed(1)} µs per flow (${values.map((v) => v.toFixed(1)).join(', ')})`);
}
