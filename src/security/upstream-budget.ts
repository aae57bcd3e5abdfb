import type { RedisClient } from '../store/redis-client.js';
import { ProveError, type CallOptions, type ProveClient } from '../prove/types.js';
import { SlotQueue } from './slot-queue.js';

/**
 * One budget for every call to Prove, shared by all instances: calls are spaced 1/rate apart
 * (GCRA without burst). Prove counts over a sliding second; a fixed-window counter (what
 * rate-limiter-flexible offers) lets up to twice the rate through across a window boundary,
 * which Prove answers with 429s, so this reserves evenly spaced slots instead. The spacing keeps
 * a margin because calls sent evenly do not arrive evenly.
 */
const JITTER_MARGIN = 1.08;

export interface UpstreamBudget {
  /**
   * Reserves the next free slot if it is at most `maxWaitMs` away, and answers the milliseconds
   * to wait for it. An answer above `maxWaitMs` is a refusal: no slot was taken, so refused calls
   * never push the queue further out (under overload the queue stays at most `maxWaitMs` long
   * and calls keep being admitted at the rate).
   */
  reserve(maxWaitMs: number): Promise<number>;
  /** The spacing between slots. */
  readonly intervalMs: number;
}

export function memoryBudget(perSecond: number, now: () => number = Date.now): UpstreamBudget {
  const interval = (1000 / perSecond) * JITTER_MARGIN;
  let next = 0;
  return {
    intervalMs: interval,
    async reserve(maxWaitMs) {
      const t = now();
      const slot = Math.max(t, next);
      const wait = slot - t;
      if (wait <= maxWaitMs) next = slot + interval;
      return wait;
    },
  };
}

// Theoretical arrival time in Redis, on Redis's own clock so instances with skewed clocks agree.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
local wait = slot - now
-- Refused (the slot is further away than the caller will wait): nothing is taken.
if wait > tonumber(ARGV[2]) then return wait end
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', math.max(60000, wait + 2 * tonumber(ARGV[1])))
return wait`;

export function redisBudget(redis: RedisClient, perSecond: number, key = 'unify:upstream-budget'): UpstreamBudget {
  const interval = Math.ceil((1000 / perSecond) * JITTER_MARGIN);
  return {
    intervalMs: interval,
    async reserve(maxWaitMs) {
      return Number(await redis.eval(RESERVE, 1, key, interval, Math.floor(maxWaitMs)));
    },
  };
}

/**
 * Waits for a slot before each call; refuses (as Prove's own 429 would) when the queue is longer
 * than maxWaitMs, taking no slot. Calls go in the order they arrived, and a slot that comes due
 * too late to use is replaced rather than used (src/security/slot-queue.ts).
 */
export function withBudget(client: ProveClient, budget: UpstreamBudget, maxWaitMs = 5_000): ProveClient {
  // Slots are JITTER_MARGIN wider than the rate needs, so a second holds fewer slots than the
  // rate allows: a call may go up to 1000 * (JITTER_MARGIN - 1) ms after its slot before any
  // sliding second can exceed the rate. Half of that is for our lateness (busy event loop, GC),
  // half for the network's.
  const lateToleranceMs = Math.max(budget.intervalMs / 2, (1000 * (JITTER_MARGIN - 1)) / 2);
  // One queue for every endpoint: they share Prove's one rate.
  const queue = new SlotQueue({ budget, maxWaitMs, lateToleranceMs });
  const admit = (endpoint: string) =>
    queue.admit(
      (retryAfterMs) =>
        new ProveError({
          kind: 'rate_limited',
          endpoint,
          message: 'upstream budget exhausted',
          retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
        }),
    );
  // The access token is in hand before the slot is taken, so a call that has to fetch one (the
  // first, or after expiry) is not late for its slot by the length of that fetch.
  const ready = async (endpoint: string, options: CallOptions | undefined) => {
    await client.checkCredentials(options);
    await admit(endpoint);
  };
  return {
    unify: async (request, options) => (await ready('/v3/unify', options), client.unify(request, options)),
    unifyStatus: async (request, options) => (await ready('/v3/unify-status', options), client.unifyStatus(request, options)),
    unifyBind: async (request, options) => (await ready('/v3/unify-bind', options), client.unifyBind(request, options)),
    revokeDevice: async (request, options) => (await ready('/v3/device/revoke', options), client.revokeDevice(request, options)),
    checkCredentials: (options) => client.checkCredentials(options),
  };
}
