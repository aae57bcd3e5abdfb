import type { Child } from './lib/children.js';
import { Pool, buildRequest } from './lib/http.js';
import { DOCS, emulatorStats, gql, startFlow, type Any } from './lib/graphql.js';
import type { Row } from './report.js';

/**
 * The rows that count calls to Prove: `/token` under a cold burst of starts (single flight), calls
 * per completed flow of each kind, and upstream 429s under a burst larger than the budget.
 */

export interface ProveCallsContext {
  child(script: string, options: { env?: Record<string, string>; args?: Record<string, unknown> }): Promise<Child>;
  stop(...children: (Child | undefined)[]): Promise<void>;
  gatewayEnv(emulatorUrl: string, extra?: Record<string, string>): Record<string, string>;
  log(line: string): void;
  /** A key the gateways accept (bindPhone needs a trusted caller). */
  apiKey: string;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A burst: `count` startUnify requests written at once, each on its own connection. */
async function burst(gatewayUrl: string, count: number, phoneNumber: string): Promise<Record<string, number>> {
  const graphqlUrl = `${gatewayUrl}/graphql`;
  const pools = await Promise.all(Array.from({ length: count }, () => Pool.open(gatewayUrl, 1)));
  try {
    const outcomes: Record<string, number> = {};
    await Promise.all(
      pools.map(async (pool) => {
        let name: string;
        try {
          const data = await gql(pool, graphqlUrl, DOCS.start, { input: { possessionType: 'MOBILE', phoneNumber } });
          name = String(data.startUnify.__typename);
        } catch (error) {
          name = `failed: ${(error as Error).message.slice(0, 60)}`;
        }
        outcomes[name] = (outcomes[name] ?? 0) + 1;
      }),
    );
    return outcomes;
  } finally {
    for (const p of pools) p.close();
  }
}

const describe = (outcomes: Record<string, number>) => Object.entries(outcomes).map(([k, v]) => `${v} ${k}`).join(', ');

export async function tokenAndCallsRows(ctx: ProveCallsContext, emulator: Child): Promise<Row[]> {
  const emulatorUrl = String(emulator.info.url);
  const stats = await Pool.open(emulatorUrl, 1);
  const gateway = await ctx.child('gateway', { env: ctx.gatewayEnv(emulatorUrl, { PROVE_RATE_LIMIT: '10000' }) });
  const gatewayUrl = String(gateway.info.url);
  const graphqlUrl = String(gateway.info.graphqlUrl);
  const rows: Row[] = [];
  try {
    await emulatorStats(stats, emulatorUrl, true);
    const outcomes = await burst(gatewayUrl, 200, '2001004018');
    const s = await emulatorStats(stats, emulatorUrl);
    ctx.log(`  cold burst: ${describe(outcomes)}; /token calls ${s.calls['/token']}, tokens ${s.tokensIssued}`);
    rows.push({
      goal: '`/token` requests under a cold burst of 200 starts',
      target: 'exactly 1',
      measured: `**${s.calls['/token']}** (${s.tokensIssued} issued)`,
      reference: `${describe(outcomes)}; ${s.calls['/v3/unify']} calls to /v3/unify`,
      met: s.calls['/token'] === 1,
      notes: 'A gateway that has never called Prove; 200 startUnify requests written at once on 200 connections. PROVE_RATE_LIMIT=10000 and the emulator limit off, so all 200 need the token at the same moment (with the 25/s budget the calls would be spaced and the single flight barely tested).',
    });

    const pool = await Pool.open(gatewayUrl, 10);
    const emu = await Pool.open(emulatorUrl, 10);
    const sim = async (body: Any) => JSON.parse((await emu.request(buildRequest(`${emulatorUrl}/sim/authenticate`, JSON.stringify(body)))).body) as Any;
    const per = 20;
    const status = async (id: string) => {
      // Three AuthFinishStep callbacks at once (a double click, a retry): still one call to Prove.
      const results = await Promise.all([1, 2, 3].map(() => gql(pool, graphqlUrl, DOCS.status, { flowId: id })));
      return results[0]!.unifyStatus as Any;
    };
    const kinds: [string, () => Promise<void>][] = [
      ['MOBILE (OTP)', async () => {
        const f = await startFlow(pool, graphqlUrl, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
        await sim({ authToken: f.authToken, otp: '1234' });
        const r = await status(f.id);
        if (r.flow?.state !== 'VERIFIED') throw new Error(`MOBILE ended ${JSON.stringify(r)}`);
      }],
      ['DESKTOP (Instant Link)', async () => {
        const f = await startFlow(pool, graphqlUrl, { possessionType: 'DESKTOP', phoneNumber: '2001004015', finalTargetUrl: 'https://example.com/done' });
        await sim({ authToken: f.authToken, instantLink: true });
        const r = await status(f.id);
        if (r.flow?.state !== 'VERIFIED') throw new Error(`DESKTOP ended ${JSON.stringify(r)}`);
      }],
      ['NONE + bind', async () => {
        const f = await startFlow(pool, graphqlUrl, { possessionType: 'NONE', phoneNumber: '2001004014' });
        await sim({ authToken: f.authToken });
        const r = await status(f.id);
        if (r.flow?.state !== 'POSSESSION_REQUIRED') throw new Error(`NONE ended ${JSON.stringify(r)}`);
        const b = (await gql(pool, graphqlUrl, DOCS.bind, { input: { flowId: f.id, phoneNumber: '2001004014' } }, ctx.apiKey)).bindPhone;
        if (b.flow?.state !== 'BOUND') throw new Error(`bind ended ${JSON.stringify(b)}`);
      }],
    ];
    const perKind: string[] = [];
    let met = true;
    for (const [name, run] of kinds) {
      await emulatorStats(stats, emulatorUrl, true);
      await Promise.all(Array.from({ length: per }, run));
      const c = (await emulatorStats(stats, emulatorUrl)).calls;
      const calls = (c['/v3/unify'] + c['/v3/unify-status'] + c['/v3/unify-bind']) / per;
      met &&= calls === (name.includes('bind') ? 3 : 2);
      perKind.push(`${name} **${fmt(calls, 2)}**`);
      ctx.log(`  ${name}: ${fmt(calls, 2)} Prove calls per flow (${JSON.stringify(c)})`);
    }
    pool.close();
    emu.close();
    rows.push({
      goal: 'Prove calls per completed flow',
      target: 'the minimum: 2, or 3 with bind',
      measured: perKind.join('; '),
      reference: 'start 1 + status 1 (+ bind 1)',
      met,
      notes: `${per} flows of each kind, run concurrently; each asks unifyStatus three times at once (a repeated AuthFinishStep), which single-flight and the terminal-state read must absorb. /v3/* calls counted by the emulator.`,
    });
  } finally {
    stats.close();
    await ctx.stop(gateway);
  }
  return rows;
}

export async function burstRow(ctx: ProveCallsContext): Promise<Row> {
  // Prove's real limit (25/s per client) in the emulator, and the gateway's default budget.
  const emulator = await ctx.child('emulator', { args: { rateLimitPerSecond: 25 } });
  const emulatorUrl = String(emulator.info.url);
  const gateway = await ctx.child('gateway', { env: ctx.gatewayEnv(emulatorUrl) });
  const stats = await Pool.open(emulatorUrl, 1);
  try {
    const t0 = performance.now();
    const outcomes = await burst(String(gateway.info.url), 500, '2001004018');
    const seconds = (performance.now() - t0) / 1000;
    const s = await emulatorStats(stats, emulatorUrl);
    const upstream429 = Object.values(s.responses as Record<string, Record<string, number>>).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0);
    ctx.log(`  500 burst in ${fmt(seconds, 1)} s: ${describe(outcomes)}; emulator 429s ${upstream429}, rateLimited ${s.rateLimited}`);
    return {
      goal: 'upstream 429s under a 500-start burst',
      target: '0',
      measured: `**${upstream429}**`,
      reference: `gateway answers: ${describe(outcomes)} (in ${fmt(seconds, 1)} s); ${s.calls['/v3/unify']} calls reached Prove`,
      met: upstream429 === 0 && s.rateLimited === 0,
      notes: 'Emulator limited to 25 requests/s like Prove; the gateway with its default PROVE_RATE_LIMIT (25/s budget, 5 s longest wait): starts beyond the budget are answered RateLimitedError by the gateway instead of reaching Prove.',
    };
  } finally {
    stats.close();
    await ctx.stop(gateway, emulator);
  }
}
