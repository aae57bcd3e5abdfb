import { randomBytes } from 'node:crypto';
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
/**
 * The sliding window the send-time check counts over: Prove's second widened by 150 ms, so calls
 * sent at most `perSecond` per window arrive at most `perSecond` per second even when the network
 * (or a busy event loop between the check and the write) delays some by up to 150 ms more than
 * others. The slots' own margin (80 ms a second) was not enough for calls released together after
 * a stall: 79 of 413 drew Prove's 429 with a CPU hog beside the gateway (bench/ANALYSIS.md).
 */
const WINDOW_MS = 1150;

export interface UpstreamBudget {
  /**
   * Reserves the next free slot if it is at most `maxWaitMs` away, and answers the milliseconds
   * to wait for it. An answer above `maxWaitMs` is a refusal: no slot was taken, so refused calls
   * never push the queue further out (under overload the queue stays at most `maxWaitMs` long
   * and calls keep being admitted at the rate).
   */
  reserve(maxWaitMs: number): Promise<number>;
  /**
   * At send time: records this call and answers 0 if fewer than the rate were sent in the last
   * window, else answers how long until one leaves it (nothing recorded).
   */
  send(): Promise<number>;
  /** The spacing between slots. */
  readonly intervalMs: number;
}

export function memoryBudget(perSecond: number, now: () => number = Date.now): UpstreamBudget {
  const interval = (1000 / perSecond) * JITTER_MARGIN;
  let next = 0;
  // Send times within the last window, oldest first.
  const sent: number[] = [];
  return {
    intervalMs: interval,
    async send() {
      const t = now();
      while (sent.length > 0 && sent[0]! <= t - WINDOW_MS) sent.shift();
      if (sent.length < perSecond) {
        sent.push(t);
        return 0;
      }
      return Math.max(1, sent[0]! + WINDOW_MS - t);
    },
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

// Sends within the last window, as a sorted set scored by Redis's clock (fractional ms).
const SEND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))`;

export function redisBudget(redis: Redis, perSecond: number, key = 'unify:upstream-budget'): UpstreamBudget {
  const interval = Math.ceil((1000 / perSecond) * JITTER_MARGIN);
  let sends = 0;
  const tag = randomBytes(6).toString('base64url');
  return {
    intervalMs: interval,
    async send() {
      return Number(await redis.eval(SEND, 1, `${key}:sent`, perSecond, WINDOW_MS, `${tag}:${sends++}`));
    },
    async reserve(maxWaitMs) {
      return Number(await redis.eval(RESERVE, 1, key, interval, Math.floor(maxWaitMs)));
    },
  };
}

/**
 * Waits for a slot before each call; refuses (as Prove's own 429 would) when the queue is longer
 * than maxWaitMs, taking no slot. At its slot the call asks the window (send()) and goes when
 * Prove's sliding second has room. A call that wakes up late (a busy process: a burst of
 * requests, a long GC, a CPU-hungry neighbour) keeps its place: it goes as soon as the window
 * allows, usually at once, since lateness leaves gaps. Queueing it again at the back instead, as
 * this did before, starved everyone under CPU contention, because then every call wakes up late.
 */
export function withBudget(client: ProveClient, budget: UpstreamBudget, maxWaitMs = 5_000): ProveClient {
  const refused = (endpoint: string, message: string, retryAfterMs: number) =>
    new ProveError({
      kind: 'rate_limited',
      endpoint,
      message,
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    });
  const admit = async (endpoint: string) => {
    const began = performance.now();
    const wait = await budget.reserve(maxWaitMs);
    // Refused: the budget took no slot.
    if (wait > maxWaitMs) throw refused(endpoint, 'upstream budget exhausted', wait - maxWaitMs);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (;;) {
      const full = await budget.send();
      if (full === 0) return;
      // The window is full only after a clump (several late calls at once); its oldest leaves soon.
      if (performance.now() - began + full > 2 * maxWaitMs) throw refused(endpoint, 'upstream budget exhausted', full);
      await new Promise((resolve) => setTimeout(resolve, full));
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
    revokeDevice: async (request, options) => (await ready('/v3/device/revoke', options), client.revokeDevice(request, options)),
    checkCredentials: (options) => client.checkCredentials(options),
  };
}
