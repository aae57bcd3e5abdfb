import type { Redis } from 'ioredis';
import { ProveError, type CallOptions, type ProveClient } from '../prove/types.js';

/**
 * One budget for every call to Prove, shared by all instances: calls are spaced 1/rate apart
 * (GCRA without burst). Prove counts over a sliding second; a fixed-window counter (what
 * rate-limiter-flexible offers) lets up to twice the rate through across a window boundary,
 * which Prove answers with 429s, so this reserves evenly spaced slots instead. The spacing keeps
 * a margin because calls sent evenly do not arrive evenly.
 */
const JITTER_MARGIN = 1.08;
/** A call that keeps waking up late gives up after this many slots (UpstreamError, retryable). */
const MAX_RESERVATIONS = 8;

export interface UpstreamBudget {
  /** Milliseconds to wait before the reserved slot; the slot is taken. */
  reserve(): Promise<number>;
  /** The spacing between slots. */
  readonly intervalMs: number;
}

export function memoryBudget(perSecond: number, now: () => number = Date.now): UpstreamBudget {
  const interval = (1000 / perSecond) * JITTER_MARGIN;
  let next = 0;
  return {
    intervalMs: interval,
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
    intervalMs: interval,
    async reserve() {
      return Number(await redis.eval(RESERVE, 1, key, interval));
    },
  };
}

/**
 * Waits for a slot before each call; refuses (as Prove's own 429 would) when the queue is longer
 * than maxWaitMs. A call that wakes up well after its slot (the process was busy: a burst of
 * requests, a long GC) takes a new slot instead of going at once: going late would put it next to
 * the calls of the following slots, and a few such clumps exceed Prove's per-second count even
 * though every slot was spaced correctly.
 */
export function withBudget(client: ProveClient, budget: UpstreamBudget, maxWaitMs = 5_000): ProveClient {
  // Slots are JITTER_MARGIN wider than the rate needs, so a second holds fewer slots than the
  // rate allows: a call may arrive up to 1000 * (JITTER_MARGIN - 1) ms after its slot before any
  // sliding second can exceed the rate. Half of that is for our lateness (busy event loop, GC),
  // half for the network's. Only a call later than that takes a new slot.
  const lateToleranceMs = Math.max(budget.intervalMs / 2, (1000 * (JITTER_MARGIN - 1)) / 2);
  const admit = async (endpoint: string) => {
    for (let attempt = 0; ; attempt++) {
      const wait = await budget.reserve();
      if (wait > maxWaitMs || attempt === MAX_RESERVATIONS) {
        throw new ProveError({
          kind: 'rate_limited',
          endpoint,
          message: 'upstream budget exhausted',
          retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
        });
      }
      const due = performance.now() + wait;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (performance.now() - due <= lateToleranceMs) return;
    }
  };
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
    checkCredentials: (options) => client.checkCredentials(options),
  };
}
