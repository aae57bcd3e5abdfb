import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build, startChild, stopAll } from './lib/children.js';
import { median } from './lib/http.js';

/**
 * The Prove adapter alone (src/prove's createProveClient) against the emulator: unify then
 * unify-status, 16 flows at a time, the process's own CPU (user + system) per flow, median of 5
 * rounds. The same adapter serves the gateway and the CPU-per-flow row's reference
 * (bench/servers/direct-adapter.ts), so what this measures comes off both.
 *
 * Usage: npx tsx bench/adapter-cpu.ts /path/to/other/worktree [alternations]
 * (builds both checkouts, starts one emulator, then runs them alternately in fresh processes).
 */

async function worker(root: string, url: string, flows: number): Promise<void> {
  const { createProveClient } = await import(`${root}/dist/src/prove/index.js`);
  const adapter = createProveClient({ serverURL: url, clientId: 'emulator-client', clientSecret: 'emulator-secret' });
  const flow = async () => {
    const started = await adapter.unify({ possessionType: 'mobile', phoneNumber: '2001004018', clientRequestId: randomUUID() });
    await adapter.unifyStatus({ correlationId: started.correlationId, clientRequestId: randomUUID() });
  };
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next++ < n) await flow();
    }));
  };
  await run(1_500);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const before = process.cpuUsage();
    await run(flows / 5);
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / (flows / 5));
  }
  process.stdout.write(JSON.stringify({ usPerFlow: median(rounds) }));
  process.exit(0);
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 5_000));
} else {
  const other = process.argv[2]?.replace(/\/$/, '');
  const alternations = Number(process.argv[3] ?? 4);
  const here = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  const roots = other ? [other, here] : [here];
  for (const root of roots) build(`${root}/bench/`);
  const emulator = await startChild('emulator', { args: { rateLimitPerSecond: 0 } });
  const results = new Map<string, number[]>(roots.map((r) => [r, []]));
  try {
    for (let a = 0; a < alternations; a++) {
      for (const root of a % 2 ? [...roots].reverse() : roots) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', root, String(emulator.info.url)], { encoding: 'utf8' });
        const { usPerFlow } = JSON.parse(out) as { usPerFlow: number };
        results.get(root)!.push(usPerFlow);
        console.log(`${root}: ${usPerFlow.toFixed(1)} µs of CPU per flow`);
      }
    }
  } finally {
    await stopAll([emulator]);
  }
  for (const [root, values] of results) console.log(`${root}: median ${median(values).toFixed(1)} µs per flow (${values.map((v) => v.toFixed(1)).join(', ')})`);
}
