import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { required } from './requirements.js';
import { freePort, redisServerBin } from '../resilience/support.js';

/**
 * A Redis Cluster of three masters and no replicas, for the suites that run the gateway with
 * REDIS_CLUSTER=on. `.ci/run` starts one and names it in REDIS_CLUSTER_URL; without that variable
 * a suite starts its own on free ports (each node its own redis-server in a temporary directory,
 * the slots split three ways), and stops it after. A suite that kills a master always starts its
 * own (with replicas when it tests a failover).
 */

export interface RedisCluster {
  /** REDIS_URL for the gateway: the seed nodes, comma-separated. */
  url: string;
  nodes: { host: string; port: number }[];
  /** SIGKILL one node (its own clusters only): its slots are unserved until its replica, if any, takes over. */
  kill(index: number): Promise<void>;
  close(): Promise<void>;
}

const until = async (probe: () => Promise<boolean>, what: string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/**
 * Three cluster-enabled redis-servers joined into one cluster, and with `replicas` one replica of
 * each master (nodes 3, 4, 5 replicate 0, 1, 2); resolves once it says cluster_state:ok and every
 * replica is in sync.
 */
export async function startRedisCluster(bin: string, { replicas = false }: { replicas?: boolean } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'unify-cluster-'));
  // Each node's cluster bus gets a free port of its own (--cluster-port, Redis 7+): the default,
  // port + 10000, may be taken or past 65535 for an ephemeral port.
  const chosen: number[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < (replicas ? 6 : 3); i++) {
    chosen.push(await freePort());
    busPorts.push(await freePort());
  }
  const procs: ChildProcess[] = chosen.map((port, i) =>
    spawn(bin, ['--port', String(port), '--cluster-port', String(busPorts[i]), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }),
  );
  const exited = procs.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve(null) : p.once('exit', resolve))));
  // A worker that ends without running afterAll (a crash, a timeout) must not leave servers behind.
  const onExit = () => procs.forEach((p) => p.kill('SIGKILL'));
  process.once('exit', onExit);
  const stopAll = async () => {
    process.off('exit', onExit);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(exited);
    rmSync(dir, { recursive: true, force: true });
  };
  const admins = chosen.map((port) => new Redis(port, '127.0.0.1', { retryStrategy: (n) => (n > 200 ? null : 50) }));
  try {
    for (const a of admins) a.on('error', () => {}); // refused until each server listens
    await Promise.all(admins.map((a) => a.ping()));
    const third = Math.floor(16384 / 3);
    const masters = admins.slice(0, 3);
    await Promise.all(masters.map((a, i) => a.call('CLUSTER', 'ADDSLOTSRANGE', String(i * third), String(i === 2 ? 16383 : (i + 1) * third - 1))));
    for (const [i, port] of chosen.entries()) if (i > 0) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(port), String(busPorts[i]));
    await until(async () => {
      const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${chosen.length}`));
    }, 'the cluster to form', 20_000);
    if (replicas) {
      const ids = await Promise.all(masters.map((a) => a.call('CLUSTER', 'MYID') as Promise<string>));
      // A replica can follow a master only once it has heard of it over the cluster bus.
      await until(async () => {
        await Promise.all(admins.slice(3).map((a, i) => a.call('CLUSTER', 'REPLICATE', ids[i]!)));
        return true;
      }, 'the replicas to follow their masters', 20_000);
      await until(async () => {
        const roles = await Promise.all(admins.slice(3).map((a) => a.info('replication')));
        return roles.every((info) => info.includes('master_link_status:up'));
      }, 'the replicas to sync', 20_000);
    }
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    for (const a of admins) a.disconnect();
  }
  const nodes = chosen.map((port) => ({ host: '127.0.0.1', port }));
  return {
    url: `redis://127.0.0.1:${chosen[0]}`,
    nodes,
    async kill(index) {
      const proc = procs[index]!;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited[index];
    },
    close: stopAll,
  };
}

/**
 * Whether a suite can have a cluster: REDIS_CLUSTER_URL is set (.ci/run), or redis-server is
 * installed to start one. Neither: the suite skips on a developer's machine and fails in CI.
 * Synchronous, for describe.skipIf; the cluster itself is opened in beforeAll (openRedisCluster),
 * so a suite filtered out starts nothing.
 */
export function redisClusterAvailable(): boolean {
  if (process.env.REDIS_CLUSTER_URL) return true;
  const ok = required(!process.env.CI, {
    what: 'a Redis Cluster named by REDIS_CLUSTER_URL',
    fix: '.ci/run starts a three-master cluster and sets REDIS_CLUSTER_URL',
  });
  return ok && redisServerBin() !== undefined;
}

/** The cluster REDIS_CLUSTER_URL names (close() leaves it running), or one of the suite's own. */
export async function openRedisCluster(): Promise<RedisCluster> {
  const url = process.env.REDIS_CLUSTER_URL;
  if (!url) return startRedisCluster(redisServerBin()!);
  const nodes = url.split(',').map((part) => new URL(part.trim())).map((u) => ({ host: u.hostname, port: Number(u.port || 6379) }));
  return {
    url,
    nodes,
    kill: async () => {
      throw new Error('REDIS_CLUSTER_URL names a cluster shared with other suites: start one of your own to kill a node');
    },
    close: async () => {},
  };
}
