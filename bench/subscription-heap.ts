import { startChild, stopAll, type Child } from './lib/children.js';
import { subscribeAll, type Subscriber } from './lib/subscribers.js';

/**
 * Heap per graphql-ws subscription on a production gateway: heap used after two GCs with the
 * flows stored, then with one subscription open per flow. Faster and steadier than the RSS of the
 * bench's 10,000-subscription row, for trying a change. The children run compiled when the
 * checkout is built (`npm run build` first, or they run the last build).
 * Usage: [SUBSCRIPTIONS=2000] [SNAPSHOT=/tmp/name] npx tsx bench/subscription-heap.ts
 * (SNAPSHOT writes /tmp/name-before.heapsnapshot and -after, for bench/heap.ts.)
 */
const count = Number(process.env.SUBSCRIPTIONS ?? 2_000);
const snapshot = process.env.SNAPSHOT;
const API_KEY = 'bench-api-key-0123456789abcdef';
const children: Child[] = [];
const heapAfterGc = async (gateway: Child) => {
  await gateway.call('gc');
  await gateway.call('gc');
  return (await gateway.call<{ heapUsed: number }>('usage')).heapUsed;
};
try {
  const emulator = await startChild('emulator', { args: { rateLimitPerSecond: 0 } });
  children.push(emulator);
  const gateway = await startChild('gateway', {
    nodeArgs: ['--expose-gc'],
    env: {
      NODE_ENV: 'production', PORT: '0', PROVE_BASE_URL: String(emulator.info.url), PROVE_CLIENT_ID: 'emulator-client',
      PROVE_CLIENT_SECRET: 'emulator-secret', GATEWAY_API_KEYS: API_KEY,
      LIMIT_CONNECTIONS_PER_ADDRESS: String(count + 1_000), LIMIT_SUBSCRIPTIONS_PER_ADDRESS: String(count + 1_000),
    },
  });
  children.push(gateway);
  const ids = await gateway.call<string[]>('seed', { count });
  const before = await heapAfterGc(gateway);
  if (snapshot) await gateway.call('heapSnapshot', { path: `${snapshot}-before.heapsnapshot` }, 120_000);
  const subscribers: Subscriber[] = await subscribeAll(String(gateway.info.graphqlUrl).replace(/^http/, 'ws'), ids, 100);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = await heapAfterGc(gateway);
  if (snapshot) await gateway.call('heapSnapshot', { path: `${snapshot}-after.heapsnapshot` }, 120_000);
  const grown = after - before;
  console.log(`${subscribers.length} subscriptions: heap +${(grown / 2 ** 20).toFixed(1)} MiB, ${(grown / subscribers.length / 1024).toFixed(2)} KiB each`);
  for (const s of subscribers) s.close();
} finally {
  await stopAll(children);
}
