import type { Keyv } from 'keyv';
import type { RedisClient } from '../store/redis-client.js';
import type { Logger } from 'pino';
import { UpstreamError } from '../flows/errors.js';
import type { Locks } from '../store/locks.js';
import type { ConditionalWrites } from '../store/conditional-write.js';
import type { FlowEvents } from '../events/flow-events.js';
import type { UpstreamBudget } from '../security/upstream-budget.js';

/**
 * What a store (Redis) outage looks like to callers: a typed, retryable error, never a silent
 * "not found" nor a write that quietly did not happen.
 *
 * The store already throws rather than answer "not found" when Redis is down (src/store/redis-store.ts:
 * throwOnErrors, no offline queue). These guards give every such failure one shape:
 * StoreUnavailableError, an UpstreamError { retryable: true, upstreamStatus: null } — the error
 * clients already handle as "nothing happened, try again" — so startUnify, unifyStatus and
 * bindPhone answer with their typed UpstreamError, `flow(id)` (no error union) with a masked
 * top-level error, and the log says "store unavailable" with the operation. The subscription
 * treats it as a pause, not an end (resumable-watch.ts).
 *
 * Nothing here retries a write: a failed write is reported, and the operation that needed it
 * fails. Before anything is sent to Prove the gateway touches Redis (the shared upstream budget,
 * the status lease), so during an outage no SMS goes out for a flow that could not be stored.
 */
export class StoreUnavailableError extends UpstreamError {
  /** Tells it apart from Prove's UpstreamError in logs (its GraphQL type stays UpstreamError). */
  readonly source = 'store';
  constructor(readonly operation: string, cause?: unknown) {
    super(true, undefined, 'The gateway cannot reach its store right now; nothing was changed, try again shortly');
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * Errors node-redis and ioredis raise while the server is unreachable; on a Redis Cluster also
 * while a master is down or being replaced (CLUSTERDOWN, TRYAGAIN, MASTERDOWN, or the client
 * running out of redirections or nodes to ask).
 */
const CONNECTION_ERROR =
  /offline|client is closed|connection is closed|socket closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|max retries per request|Stream isn't writeable|connect(ion)? timeout|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|Cluster redirections|slots cache|startup nodes|Cluster isn't ready|subscriber for/i;

/** Whether an error means "the store is not reachable right now" (as opposed to a bug or a domain refusal). */
export function isStoreOutage(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  return CONNECTION_ERROR.test(`${error.name} ${error.message}`);
}

const KEYV_METHODS = new Set([
  'get', 'getMany', 'getRaw', 'getManyRaw', 'set', 'setMany', 'delete', 'deleteMany', 'clear', 'has', 'hasMany',
]);

/**
 * One log line when the store becomes unreachable and one when it answers again (with how many
 * operations failed meanwhile), instead of a line per failed request.
 */
export class StoreOutageLog {
  #since: number | undefined;
  #failures = 0;
  constructor(private readonly logger?: Logger) {}

  failed(operation: string, error: unknown): void {
    this.#failures++;
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.logger?.error(
      { operation, err: { name: (error as Error)?.name, message: (error as Error)?.message } },
      'store unavailable: requests that need it fail with UpstreamError (retryable) until it answers again',
    );
  }

  ok(): void {
    if (this.#since === undefined) return;
    this.logger?.warn({ outageMs: Date.now() - this.#since, failedOperations: this.#failures }, 'store reachable again');
    this.#since = undefined;
    this.#failures = 0;
  }
}

function failing(operation: string, error: unknown, log: StoreOutageLog | undefined): never {
  log?.failed(operation, error);
  if (error instanceof StoreUnavailableError) throw error;
  throw new StoreUnavailableError(operation, error);
}

/**
 * keyv with every data method's failure turned into StoreUnavailableError. Every error keyv
 * throws is a store failure (with throwOnErrors it throws nothing else), so all are translated.
 */
export function guardKeyv(keyv: Keyv, log?: StoreOutageLog): Keyv {
  // One wrapper per method, made on first use: a wrapper per property access was an allocation on every store read.
  const guarded = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(keyv, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || !KEYV_METHODS.has(property) || typeof value !== 'function') return value;
      let wrapper = guarded.get(property);
      if (!wrapper) {
        wrapper = async (...args: unknown[]) => {
          try {
            const result = await (Reflect.get(target, property) as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            log?.ok();
            return result;
          } catch (error) {
            failing(`keyv.${property}`, error, log);
          }
        };
        guarded.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

/** The store's fenced write, its failures turned into StoreUnavailableError as keyv's are. */
export function guardWrites(writes: ConditionalWrites, log?: StoreOutageLog): ConditionalWrites {
  return {
    async setIfNewer(key, value, ttlMs) {
      try {
        const written = await writes.setIfNewer(key, value, ttlMs);
        log?.ok();
        return written;
      } catch (error) {
        failing('setIfNewer', error, log);
      }
    },
  };
}

/**
 * Leases on Redis. While the connection is down they fail at once: ioredis would otherwise queue
 * the command through a few reconnect attempts (seconds) before giving up.
 */
export function guardLocks(locks: Locks, redis: RedisClient | undefined, log?: StoreOutageLog): Locks {
  const up = connectionCheck(redis, 'lock');
  return {
    async acquire(name, ttlMs) {
      try {
        await up();
        return await locks.acquire(name, ttlMs);
      } catch (error) {
        failing('lock.acquire', error, log);
      }
    },
    async held(name) {
      try {
        await up();
        return await locks.held(name);
      } catch (error) {
        failing('lock.held', error, log);
      }
    },
  };
}

/** How long the first request to a fresh instance waits for its Redis connection to come up. */
const FIRST_CONNECT_WAIT_MS = 2_000;

/**
 * Throws StoreUnavailableError while the connection is down. Before it has been up once (an
 * instance that just started and already has a request: every start takes a lease), it waits
 * for it briefly instead: that is a connection being made, not an outage.
 */
function connectionCheck(redis: RedisClient | undefined, operation: string): () => Promise<void> {
  if (!redis) return async () => {};
  let connected = redis.status === 'ready';
  if (!connected) redis.once('ready', () => (connected = true));
  return async () => {
    if (redis.status === 'ready') return;
    if (!connected && redis.status !== 'end' && redis.status !== 'close') {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
        redis.once('ready', done);
      });
      if ((redis.status as string) === 'ready') return;
    }
    throw new StoreUnavailableError(operation);
  };
}

/** The shared upstream budget on Redis: unreachable means no call to Prove (it could not be paced, nor its flow stored). */
export function guardBudget(budget: UpstreamBudget, redis: RedisClient | undefined, log?: StoreOutageLog): UpstreamBudget {
  const up = connectionCheck(redis, 'upstream budget');
  return {
    intervalMs: budget.intervalMs,
    async reserve(maxWaitMs) {
      try {
        await up();
        return await budget.reserve(maxWaitMs);
      } catch (error) {
        failing('budget.reserve', error, log);
      }
    },
  };
}

/** Pub/sub: a listen() that cannot be put in force says so with the same error. */
export function guardEvents(events: FlowEvents, log?: StoreOutageLog): FlowEvents {
  return {
    published: (key, version) => events.published(key, version),
    async listen(key, onChange) {
      try {
        return await events.listen(key, onChange);
      } catch (error) {
        failing('pubsub.listen', error, log);
      }
    },
    unlisten: (key, onChange) => events.unlisten(key, onChange),
    listenerCount: () => events.listenerCount(),
  };
}

/**
 * An ioredis client's connection, in the log: one line when it is lost and one when it is back.
 * Also the client's 'error' listener: without one ioredis prints "Unhandled error event" to
 * stderr on every reconnect attempt.
 */
export function logRedisConnection(client: RedisClient, name: string, logger: Logger): void {
  let lostAt: number | undefined;
  client.on('error', (error: Error) => {
    if (lostAt !== undefined) return;
    lostAt = Date.now();
    logger.error({ connection: name, err: { message: error.message } }, 'Redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (lostAt === undefined) return;
    logger.warn({ connection: name, outageMs: Date.now() - lostAt }, 'Redis connection back');
    lostAt = undefined;
  });
}
