import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/**
 * The gateway's Redis: one server (ioredis `Redis`) or a Redis Cluster (ioredis `Cluster`), which
 * answers the same commands. Everything that talks to Redis takes either.
 */
export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** REDIS_URL: one URL, or with `cluster` the seed nodes, comma-separated. */
  url: string;
  cluster: boolean;
}

export interface ClusterSeeds {
  nodes: { host: string; port: number }[];
  /** Credentials and TLS, taken from the first seed: every node of a cluster shares them. */
  redisOptions: RedisOptions;
}

/** The seed nodes of `redis://[user:password@]host:port,redis://host:port`. */
export function clusterSeeds(url: string): ClusterSeeds {
  const urls = url.split(',').map((part) => new URL(part.trim()));
  const first = urls[0]!;
  return {
    nodes: urls.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) })),
    redisOptions: {
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' && { tls: {} }),
    },
  };
}

/**
 * A client for the target, ioredis loaded on first use (a single instance in memory mode never
 * needs it). `sharded`: the cluster client keeps one subscriber connection per master for
 * SSUBSCRIBE (ioredis' sharded subscribers); only the pub/sub connection asks for it.
 */
export async function connectRedis(
  target: RedisTarget,
  options: RedisOptions = {},
  cluster: Pick<ClusterOptions, 'shardedSubscribers'> = {},
): Promise<RedisClient> {
  const { Cluster, Redis } = await import('ioredis');
  if (!target.cluster) return new Redis(target.url, options);
  const seeds = clusterSeeds(target.url);
  return new Cluster(seeds.nodes, {
    redisOptions: { ...seeds.redisOptions, ...options },
    // Commands wait for the slot map rather than fail while the client first learns it.
    enableReadyCheck: true,
    ...cluster,
  });
}

/** Whether a client is a cluster's (typed: some calls differ, e.g. pub/sub and per-node checks). */
export const isCluster = (client: RedisClient): client is Cluster => client.isCluster;
