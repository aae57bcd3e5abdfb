import { replayFailedDeliveries } from '../src/webhooks/replay.js';
import { connectRedis } from '../src/store/redis-client.js';

// `npm run webhooks:replay`: re-queues refused and given-up webhook deliveries (Redis mode only).
const url = process.env.REDIS_URL;
if (!url) {
  console.error('REDIS_URL is required: in memory mode undelivered webhooks live in the gateway process and cannot be replayed');
  process.exit(1);
}
// REDIS_CLUSTER=on: REDIS_URL names seed nodes of the cluster, as for the gateway.
const redis = await connectRedis({ url, cluster: process.env.REDIS_CLUSTER === 'on' }, { maxRetriesPerRequest: 2 });
try {
  const count = await replayFailedDeliveries(redis);
  console.log(`re-queued ${count} failed webhook deliveries; running gateways send them now`);
} finally {
  redis.disconnect();
}
