import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limit } from '../config.js';
import { RateLimitedError } from '../flows/errors.js';
import type { StartGuard } from '../flows/service.js';
import type { Caller } from '../flows/caller.js';
import { redactPhoneNumber } from '../flows/phone.js';
import { sha256 } from '../lib/hash.js';

/**
 * Send limits on startUnify: per phone number (against SMS pumping and bombing one person) and
 * per client address (against one client walking through many numbers). Counters live in the
 * store backend through rate-limiter-flexible, so every instance sees the same counts.
 *
 * - The number limit holds for every caller: no real user needs more texts than that.
 * - The address limit holds for public callers only. A trusted backend (API key) is one address
 *   in front of all of its users, and it is accountable for its own traffic.
 * - The address is charged first, so a client already over its own limit cannot also use up a
 *   stranger's number budget.
 * - Keys are hashes: neither Redis nor a heap dump lists the numbers or addresses being limited.
 */

export interface StartLimitsOptions {
  perNumber: Limit;
  perAddress: Limit;
  /** Shared counters; in-process memory when absent. */
  redis?: Redis | undefined;
  keyPrefix?: string;
  logger?: Logger;
}

const hashed = (value: string) => sha256(value).slice(0, 22);

/** rate-limiter-flexible counts in whole seconds; a shorter window is rounded up to one second. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function limiter(limit: Limit, keyPrefix: string, redis: Redis | undefined): RateLimiterAbstract {
  const base = { points: limit.count, duration: seconds(limit.windowMs), keyPrefix };
  if (!redis) return new RateLimiterMemory(base);
  // While Redis is unreachable each instance keeps counting on its own instead of failing starts.
  return new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: new RateLimiterMemory(base) });
}

async function charge(limit: RateLimiterAbstract, key: string): Promise<number | undefined> {
  try {
    await limit.consume(key);
    return undefined;
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
    throw refusal;
  }
}

export function createStartLimits(options: StartLimitsOptions): StartGuard {
  const prefix = options.keyPrefix ?? 'unify:start-limit';
  const perNumber = limiter(options.perNumber, `${prefix}:number`, options.redis);
  const perAddress = limiter(options.perAddress, `${prefix}:address`, options.redis);

  return {
    async admit(phoneNumber: string | undefined, caller: Caller): Promise<void> {
      if (caller.kind === 'public') {
        const retryAfter = await charge(perAddress, hashed(caller.address));
        if (retryAfter !== undefined) {
          options.logger?.warn({ limit: 'address', retryAfterSeconds: retryAfter }, 'start refused by send limit');
          throw new RateLimitedError(retryAfter, `Too many starts from this client; try again in ${retryAfter} s`);
        }
      }
      // A phone-less start: the number is charged once Prove names it (learned below).
      if (phoneNumber === undefined) return;
      const retryAfter = await charge(perNumber, hashed(phoneNumber));
      if (retryAfter !== undefined) {
        options.logger?.warn(
          { limit: 'number', phone: redactPhoneNumber(phoneNumber), caller: caller.kind, retryAfterSeconds: retryAfter },
          'start refused by send limit',
        );
        throw new RateLimitedError(retryAfter, `Too many verification messages to this number; try again in ${retryAfter} s`);
      }
    },
    async learned(phoneNumber: string): Promise<void> {
      // Counted, never refused: the flow has happened; the next start to this number sees it.
      await perNumber.penalty(hashed(phoneNumber), 1).catch((error: Error) =>
        options.logger?.warn({ err: { message: error.message } }, 'could not count a learnt number against its send limit'),
      );
    },
  };
}
