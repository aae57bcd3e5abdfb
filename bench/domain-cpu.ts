import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from './lib/children.js';
import { alternateCheckouts, cpuPerFlowHere } from './lib/cpu-per-flow.js';

/**
 * The domain half of a flow alone: FlowService.start then refresh, wired as the gateway wires it
 * (src/app/flow-service.ts: memory store behind its guard, send limits, metrics, the upstream
 * budget and circuit breaker, logging at info to /dev/null), with Prove's two answers given in
 * the process instead of over HTTP. What is left out is what bench/servers/direct-adapter.ts
 * spends too (the adapter's HTTP calls), and the GraphQL pipeline and transport; what is left is
 * the part of the gateway's CPU per flow that src/flows, src/store and src/security decide, small
 * enough (~150 µs of ~2.8 ms) that `bench/ab.ts` cannot resolve a change of a few per cent of it.
 * CPU per flow is the process's own (user + system) over 16 flows at a time, median of 5 rounds.
 *
 * Usage: npm run build && npx tsx bench/domain-cpu.ts /path/to/other/worktree [alternations]
 * (builds both checkouts, then runs them alternately in fresh processes).
 */

interface Built {
  loadConfig(env: Record<string, string>): any;
  createFlowService(config: any, parts: any): any;
}

async function worker(root: string, flows: number): Promise<void> {
  const d = (path: string) => import(`${root}/dist/src/${path}`);
  const { loadConfig } = await d('config.js');
  const { createFlowService } = await d('app/flow-service.js');
  const { createMemoryStore } = await d('store/store.js');
  const { StoreOutageLog } = await d('resilience/store-guard.js');
  const { createFlowEvents } = await d('events/flow-events.js');
  const { createMetrics } = await d('observability/metrics.js');
  const { memoryBudget, withBudget } = await d('security/upstream-budget.js');
  const { withCircuitBreaker } = await d('resilience/circuit-breaker.js');
  const { default: pino } = await import(`${root}/node_modules/pino/pino.js`);
  const lots = '100000000/1m';
  const config = (loadConfig as Built['loadConfig'])({
    NODE_ENV: 'production', PORT: '0', PROVE_BASE_URL: 'http://127.0.0.1:9', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret',
    PROVE_RATE_LIMIT: '10000', START_LIMIT_PER_NUMBER: lots, START_LIMIT_PER_ADDRESS: lots, START_LIMIT_PER_NUMBER_ALL: lots, START_LIMIT_PER_NUMBER_TRUSTED: lots,
  });
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
  const metrics = createMetrics();
  // Prove's answers for a MOBILE start and its status, as the emulator gives them for the bench's number.
  const prove = {
    unify: async () => ({ success: 'pending', correlationId: randomUUID(), authToken: 'a'.repeat(128) }),
    unifyStatus: async (request: { clientRequestId?: string }) => ({ success: 'true', phoneNumber: '+12001004018', clientRequestId: request.clientRequestId, evaluation: {} }),
    unifyBind: async () => Promise.reject(new Error('not used')),
    revokeDevice: async () => ({ success: true }),
    checkCredentials: async () => {},
  };
  const client = withCircuitBreaker(withBudget(metrics.instrumentProve(prove, 'us'), memoryBudget(10_000)), { logger });
  const service = (createFlowService as Built['createFlowService'])(config, {
    regions: [{ region: 'us', client, adapter: prove }],
    store: createMemoryStore(),
    storeLog: new StoreOutageLog(logger),
    events: createFlowEvents(),
    redis: undefined,
    metrics,
    logger,
  });
  const caller = { kind: 'public', address: '127.0.0.1' };
  // Each call with its request's log, as the gateway hands it down; a checkout from before request
  // logs has none, and its calls ignore the extra argument.
  const { RequestLog } = await d('observability/request-log.js').catch(() => ({ RequestLog: undefined }));
  const requestLog = () => (RequestLog ? new RequestLog(logger, randomUUID()) : undefined);
  const flow = async () => {
    const { flow: started } = await service.start({ possessionType: 'MOBILE', phoneNumber: '2001004018' }, caller, requestLog());
    if ((await service.refresh(started.id, requestLog())).state !== 'VERIFIED') throw new Error('the flow did not verify');
  };
  process.stdout.write(JSON.stringify({ usPerFlow: await cpuPerFlowHere(flow, { warmup: 3_000, flows }) }));
  process.exit(0);
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!, Number(process.argv[4] ?? 20_000));
} else {
  const other = process.argv[2]?.replace(/\/$/, '');
  const alternations = Number(process.argv[3] ?? 3);
  const here = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  const roots = other ? [other, here] : [here];
  for (const root of roots) build(`${root}/bench/`);
  alternateCheckouts(fileURLToPath(import.meta.url), roots, alternations);
}
