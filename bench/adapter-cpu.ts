import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build, startChild, stopAll } from './lib/children.js';
import { alternateCheckouts, cpuPerFlowHere } from './lib/cpu-per-flow.js';

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
  process.stdout.write(JSON.stringify({ usPerFlow: await cpuPerFlowHere(flow, { warmup: 1_500, flows }) }));
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
  try {
    alternateCheckouts(fileURLToPath(import.meta.url), roots, alternations, [String(emulator.info.url)]);
  } finally {
    await stopAll([emulator]);
  }
}
