import type { Redis } from 'ioredis';
import { ProveError, type ProveClient } from '../prove/types.js';

/**
 * One budget for every call to Prove, shared by all instances: calls are spaced 1/rate apart
 * (GCRA without burst). Prove counts over a sliding second; a fixed-window counter (what
 * rate-limiter-flexible offers) lets up to twice the rate through across a window boundary,
 * which Prove answers with 429s, so this reserves evenly spaced slots instead. The spacing keeps
 * a margin because calls sent evenly do not arrive evenly.
 */
const JITTER_MARGIN = 1.08;

export interface UpstreamBudget {
  /** Milliseconds to wait before the reserved slot; the slot is taken. */
  reserve(): Promise<number>;
}

export function memoryBudget(perSecond: number, now: () => number = Date.now): UpstreamBudget {
  const interval = (1000 / perSecond) * JITTER_MARGIN;
  let next = 0;
  return {
    async reserve() {
      const t = now();
      const slot = Math.max(t, next);
      next = slot + interval;
      return slot - t;
    },
  };
}

// Theoretical arrival time in Redis, on Redis's own clock so instances with skewed clocks agree.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 60000)
return slot - now`;

export function redisBudget(redis: Redis, perSecond: number, key = 'unify:upstream-budget'): UpstreamBudget {
  const interval = Math.ceil((1000 / perSecond) * JITTER_MARGIN);
  return {
    async reserve() {
      return Number(await redis.eval(RESERVE, 1, key, interval));
    },
  };
}

/** Waits for a slot before each call; refuses (as Prove's own 429 would) when the queue is longer than maxWaitMs. */
export function withBudget(client: ProveClient, budget: UpstreamBudget, maxWaitMs = 5_000): ProveClient {
  const admit = async (endpoint: string) => {
    const wait = await budget.reserve();
    if (wait > maxWaitMs) {
      throw new ProveError({
        kind: 'rate_limited',
        endpoint,
        message: 'upstream budget exhausted',
        retryAfterSeconds: Math.ceil(wait / 1000),
      });
    }
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  return {
    unify: async (request, options) => (await admit('/v3/unify'), client.unify(request, options)),
    unifyStatus: async (request, options) => (await admit('/v3/unify-status'), client.unifyStatus(request, options)),
    unifyBind: async (request, options) => (await admit('/v3/unify-bind'), client.unifyBind(request, options)),
    checkCredentials: (options) => client.checkCredentials(options),
  };
}
