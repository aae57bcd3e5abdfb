import type { Cluster, Redis } from 'ioredis';

/**
 * What a flow needs from a Redis Cluster: every slot served (a flow's keys may hash to any slot,
 * so one master down is a share of flows failing, not a degraded instance), and each master that
 * owns slots reachable. One key written on one node would say "ready" while a third of the flows
 * fail; so /ready asks every master the client knows for CLUSTER INFO and CLUSTER NODES, and
 * reports: the cluster's own state (`cluster_state:ok`, set by the nodes once a failure is
 * agreed on), slots not served, and masters the others have lost their link to (seen at once,
 * before the nodes agree on the failure: `cluster-node-timeout`, 15 s by default).
 */

export interface ClusterHealth {
  ok: boolean;
  /** cluster_state as the reachable masters report it ('ok', 'fail'), 'unknown' when none answered. */
  state: string;
  /** Slots served (cluster_slots_ok) of 16384. */
  slotsOk: number;
  /** One line per problem. */
  problems: string[];
}

const SLOTS = 16384;

const field = (info: string, name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];

/** Masters with slots that a node (its CLUSTER NODES answer) sees failing or has no link to. */
function failingMasters(nodesText: string): string[] {
  const failing: string[] = [];
  for (const line of nodesText.split('\n')) {
    const [, address, flags, , , , , link, ...slots] = line.trim().split(' ');
    if (!address || !flags || flags.includes('myself') || !flags.includes('master') || slots.length === 0) continue;
    if (/\bfail\??\b/.test(flags) || link === 'disconnected') failing.push(address.split('@')[0]!);
  }
  return failing;
}

export async function clusterHealth(cluster: Cluster, timeoutMs: number): Promise<ClusterHealth> {
  const masters = cluster.nodes('master');
  const problems: string[] = [];
  if (masters.length === 0) return { ok: false, state: 'unknown', slotsOk: 0, problems: ['cluster: no master reachable'] };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  timeout.catch(() => {});
  const answers = await Promise.all(
    masters.map(async (node) => {
      const name = `${node.options.host}:${node.options.port}`;
      try {
        const [info, nodes] = await Promise.race([
          Promise.all([node.call('CLUSTER', 'INFO') as Promise<string>, node.call('CLUSTER', 'NODES') as Promise<string>]),
          timeout,
        ]);
        return { name, info, nodes };
      } catch (error) {
        problems.push(`cluster: master ${name} does not answer (${error instanceof Error ? error.message : String(error)})`);
        return undefined;
      }
    }),
  ).finally(() => clearTimeout(timer));
  const answered = answers.filter((a) => a !== undefined);
  let state = 'unknown';
  let slotsOk = 0;
  const failing = new Set<string>();
  for (const { name, info, nodes } of answered) {
    const nodeState = field(info, 'cluster_state') ?? 'unknown';
    if (state === 'unknown' || nodeState !== 'ok') state = nodeState;
    const served = Number(field(info, 'cluster_slots_ok') ?? 0);
    slotsOk = slotsOk === 0 ? served : Math.min(slotsOk, served);
    if (nodeState !== 'ok') problems.push(`cluster: ${name} reports cluster_state:${nodeState}`);
    for (const master of failingMasters(nodes)) failing.add(master);
  }
  if (answered.length > 0 && slotsOk < SLOTS) problems.push(`cluster: ${slotsOk} of ${SLOTS} slots served`);
  for (const master of failing) problems.push(`cluster: master ${master} is failing or unreachable from the other masters`);
  return { ok: problems.length === 0, state, slotsOk, problems };
}

/**
 * A single-node client on a cluster node (REDIS_URL names a cluster, REDIS_CLUSTER is off): every
 * key outside that node's slots is answered MOVED, so most flows fail while PING and a key that
 * happens to live there succeed. Said as a problem, so /ready does not call such an instance ready.
 */
export async function clusterModeMismatch(redis: Redis, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  const info = await Promise.race([redis.info('cluster').catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  return info && /^cluster_enabled:1/m.test(info)
    ? 'redis: REDIS_URL names a node of a Redis Cluster; set REDIS_CLUSTER=on (keys on the other nodes answer MOVED)'
    : undefined;
}
