import type { RedisClient } from '../store/redis-client.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limit } from '../config-values.js';
import { RateLimitedError } from '../flows/errors.js';
import type { StartCharge, StartGuard } from '../flows/service-deps.js';
import type { Caller } from '../flows/caller.js';
import { redactPhoneNumber } from '../flows/phone.js';
import { sha256 } from '../lib/hash.js';
import type { Log } from '../lib/log.js';

/**
 * Send limits on startUnify, against SMS pumping and against bombing one person, built so that
 * no stranger can lock a number for its owner or for the operator's backend:
 *
 * - Only texts Prove accepted count against a number: a start Prove refused (or our own budget or
 *   breaker refused before Prove) is refunded. Attempts that sent nothing cost the owner nothing.
 * - Public callers: a number's budget is kept per client address (START_LIMIT_PER_NUMBER), so a
 *   stranger's starts use up the stranger's share only; a looser cap over all addresses together
 *   (START_LIMIT_PER_NUMBER_ALL) still stops pumping one number from many addresses.
 * - Trusted callers (API key): a budget of their own per key and number
 *   (START_LIMIT_PER_NUMBER_TRUSTED). Public traffic never touches it, so the operator's backend
 *   is never blocked by strangers; it is accountable for its own traffic.
 * - Public callers are also limited per client address over all numbers (START_LIMIT_PER_ADDRESS),
 *   charged first, so a client already over its own limit cannot also use up a number's budget.
 * - Keys are hashes: neither Redis nor a heap dump lists the numbers or addresses being limited.
 *
 * Counters live in the store backend through rate-limiter-flexible, so every instance sees the
 * same counts.
 */

export interface StartLimitsOptions {
  /** Public callers: starts to one number from one client address. */
  perNumber: Limit;
  /** Public callers: starts to one number from all client addresses together. */
  perNumberAll: Limit;
  /** Trusted callers: starts to one number, per API key. */
  perNumberTrusted: Limit;
  /** Public callers: starts from one client address, all numbers together. */
  perAddress: Limit;
  /** Shared counters; in-process memory when absent. */
  redis?: RedisClient | undefined;
  keyPrefix?: string;
}

const hashed = (...parts: string[]) => sha256(parts.join('\u0000')).slice(0, 22);

/** rate-limiter-flexible counts in whole seconds; a shorter window is rounded up to one second. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function limiter(limit: Limit, keyPrefix: string, redis: RedisClient | undefined): RateLimiterAbstract {
  const base = { points: limit.count, duration: seconds(limit.windowMs), keyPrefix };
  if (!redis) return new RateLimiterMemory(base);
  // While Redis is unreachable each instance keeps counting on its own instead of failing starts.
  return new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: new RateLimiterMemory(base) });
}

/** Charges one point; answers the seconds until the next is allowed when refused. */
async function charge(limit: RateLimiterAbstract, key: string): Promise<number | undefined> {
  try {
    await limit.consume(key);
    return undefined;
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
    throw refusal;
  }
}

interface Counter {
  /** The limit's name in the refusal's log line. */
  name: string;
  limiter: RateLimiterAbstract;
  key: string;
}

export function createStartLimits(options: StartLimitsOptions): StartGuard {
  const prefix = options.keyPrefix ?? 'unify:start-limit';
  const perNumber = limiter(options.perNumber, `${prefix}:number-address`, options.redis);
  const perNumberAll = limiter(options.perNumberAll, `${prefix}:number`, options.redis);
  const perNumberTrusted = limiter(options.perNumberTrusted, `${prefix}:number-key`, options.redis);
  const perAddress = limiter(options.perAddress, `${prefix}:address`, options.redis);
  const refund = async (counters: Counter[], log: Log) => {
    for (const { limiter: l, key } of counters) {
      await l.reward(key, 1).catch((error: Error) => log.warn({ err: { message: error.message } }, 'could not refund a start that sent nothing'));
    }
  };

  /** Charges each counter in turn; on a refusal, refunds those already charged and throws. */
  const chargeAll = async (counters: Counter[], log: Log, refused: (retryAfter: number, counter: Counter) => Error): Promise<Counter[]> => {
    const charged: Counter[] = [];
    for (const counter of counters) {
      const retryAfter = await charge(counter.limiter, counter.key);
      if (retryAfter !== undefined) {
        await refund(charged, log);
        throw refused(retryAfter, counter);
      }
      charged.push(counter);
    }
    return charged;
  };

  return {
    async admit(phoneNumber: string | undefined, caller: Caller, log: Log): Promise<StartCharge> {
      if (caller.kind === 'public') {
        const retryAfter = await charge(perAddress, hashed(caller.address));
        if (retryAfter !== undefined) {
          log.warn({ limit: 'address', retryAfterSeconds: retryAfter }, 'start refused by send limit');
          throw new RateLimitedError(retryAfter, `Too many starts from this client; try again in ${retryAfter} s`);
        }
      }
      // A phone-less start: the number is charged once Prove names it (learned below).
      if (phoneNumber === undefined) return { refund: async () => {} };
      const counters: Counter[] =
        caller.kind === 'trusted'
          ? [{ name: 'number-per-key', limiter: perNumberTrusted, key: hashed(caller.keyId, phoneNumber) }]
          : [
              { name: 'number-per-address', limiter: perNumber, key: hashed(caller.address, phoneNumber) },
              { name: 'number', limiter: perNumberAll, key: hashed(phoneNumber) },
            ];
      const charged = await chargeAll(counters, log, (retryAfter, counter) => {
        log.warn(
          { limit: counter.name, phone: redactPhoneNumber(phoneNumber), caller: caller.kind, retryAfterSeconds: retryAfter },
          'start refused by send limit',
        );
        return new RateLimitedError(retryAfter, `Too many verification messages to this number; try again in ${retryAfter} s`);
      });
      let refunded = false;
      return {
        async refund() {
          if (refunded) return;
          refunded = true;
          await refund(charged, log);
        },
      };
    },
    async learned(phoneNumber: string, keyId: string | undefined, log: Log): Promise<void> {
      // Counted, never refused: the flow has happened; the next start to this number sees it.
      const counter = keyId ? { limiter: perNumberTrusted, key: hashed(keyId, phoneNumber) } : { limiter: perNumberAll, key: hashed(phoneNumber) };
      await counter.limiter.penalty(counter.key, 1).catch((error: Error) =>
        log.warn({ err: { message: error.message } }, 'could not count a learnt number against its send limit'),
      );
    },
  };
}
