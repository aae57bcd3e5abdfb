import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Child } from './lib/children.js';
import type { Row } from './report.js';

/**
 * The shared upstream budget under CPU contention: busy-looping processes beside the gateway
 * (one per core of the bench machine), starts offered at twice Prove's rate (50/s against the
 * default PROVE_RATE_LIMIT of 25/s) for 10 s, the emulator limited to 25/s like Prove. Counted:
 * unify calls Prove answered per second, and Prove's 429s (must stay 0).
 */

export interface FairnessDeps {
  child(script: string, options: { env?: Record<string, string>; args?: Record<string, unknown> }): Promise<Child>;
  stop(...children: Child[]): Promise<void>;
  gatewayEnv(emulatorUrl: string, extra?: Record<string, string>): Record<string, string>;
  log(line: string): void;
}

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) { __typename } }`;
const OFFERED_PER_SECOND = 50;
const SECONDS = 10;
/** One busy-looping process per core (BENCH_HOGS=n for more or fewer). */
const HOGS = Number(process.env.BENCH_HOGS ?? availableParallelism());

/** The emulator's counters; a connection cut by a starved process is tried again. */
async function statsOf(emulatorUrl: string): Promise<{ responses: Record<string, Record<string, number>> }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await (await fetch(`${emulatorUrl}/sim/stats`)).json()) as { responses: Record<string, Record<string, number>> };
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }
}

export async function budgetFairnessRow({ child, stop, gatewayEnv, log }: FairnessDeps): Promise<Row> {
  const emulator = await child('emulator', { args: { rateLimitPerSecond: 25 } });
  const emulatorUrl = String(emulator.info.url);
  const gateway = await child('gateway', { env: gatewayEnv(emulatorUrl) });
  const graphqlUrl = `${String(gateway.info.url)}/graphql`;
  const hogs: ChildProcess[] = Array.from({ length: HOGS }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    await fetch(`${emulatorUrl}/sim/stats/reset`, { method: 'POST' });
    const outcomes: Promise<string>[] = [];
    const startedAt: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < OFFERED_PER_SECOND * SECONDS; i++) {
      const ahead = t0 + (i * 1000) / OFFERED_PER_SECOND - performance.now();
      if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      outcomes.push(
        fetch(graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: START, variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } }),
        })
          .then(async (res) => {
            const name = ((await res.json()) as { data?: { startUnify?: { __typename: string } } }).data?.startUnify?.__typename ?? `HTTP ${res.status}`;
            if (name === 'StartUnifyPayload') startedAt.push(performance.now());
            return name;
          })
          .catch((error: Error) => `failed: ${error.message.slice(0, 40)}`),
      );
    }
    const offerEnd = performance.now();
    const offeredSeconds = (offerEnd - t0) / 1000;
    const answers = await Promise.all(outcomes);
    const stats = await statsOf(emulatorUrl);
    const answered = stats.responses['/v3/unify']?.['200'] ?? 0;
    const upstream429 = Object.values(stats.responses).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0);
    // Flows started per second, from the first answer to the last (calls keep going out while the
    // budget's queue drains after the offer ends).
    const perSecond = startedAt.length > 1 ? (startedAt.length - 1) / ((startedAt.at(-1)! - startedAt[0]!) / 1000) : 0;
    const counts: Record<string, number> = {};
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
    log(`  ${answered} unify answered in all, ${perSecond.toFixed(1)}/s from first to last (offered over ${offeredSeconds.toFixed(1)} s), Prove 429s ${upstream429}; gateway: ${JSON.stringify(counts)}`);
    return {
      goal: 'Prove calls/s through the upstream budget with a CPU hog beside the gateway',
      target: '>= 20 of 25/s, 0 upstream 429s',
      measured: `**${perSecond.toFixed(1)}/s**, ${upstream429} 429s`,
      reference: `gateway answers: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      met: perSecond >= 20 && upstream429 === 0,
      notes: `${OFFERED_PER_SECOND} starts/s offered for ${SECONDS} s to the default budget (25/s), ${HOGS} busy-looping processes beside the gateway (one per core); the emulator limits to 25/s like Prove. CPU-sensitive: the machine is shared with other work.`,
    };
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    await stop(gateway, emulator);
  }
}
