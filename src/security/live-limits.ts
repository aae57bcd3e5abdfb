/**
 * Counts what a client holds open — connections (graphql-ws sockets, SSE streams) and running
 * subscriptions — per client address and in total, under configured caps, so that one client
 * cannot hold the whole process's memory and event loop with tens of thousands of subscriptions.
 * The transport gives every slot it took back exactly once, when the thing it counts ends (the
 * socket's or the response's close); an address with nothing open is forgotten.
 */

import type { RequestIdentity } from './address.js';

export interface LiveLimitsConfig {
  subscriptionsPerSocket: number;
  subscriptionsPerAddress: number;
  subscriptionsTotal: number;
  connectionsPerAddress: number;
  connectionsTotal: number;
}

/** Which cap refused: the metric's `kind` label and the log line's. */
export type LiveRefusal =
  | 'subscriptions_per_socket'
  | 'subscriptions_per_address'
  | 'subscriptions_total'
  | 'connections_per_address'
  | 'connections_total';

export interface LiveLimits {
  readonly config: LiveLimitsConfig;
  /** Takes a connection slot for `address`, or names the cap that refused it. Every slot taken is given back once, by endConnection. */
  connection(address: string): LiveRefusal | undefined;
  endConnection(address: string): void;
  /** Takes a subscription slot for `address` on a connection already running `onConnection` of them (SSE: 0), or names the cap that refused it. */
  subscription(address: string, onConnection: number): LiveRefusal | undefined;
  endSubscription(address: string): void;
  /** A connection and a subscription slot at once, for one stream over HTTP (SSE), or the cap that refused; given back by endStream. */
  stream(address: string): LiveRefusal | undefined;
  endStream(address: string): void;
  /** What is open now, and how many per-address counters are kept for it (leak checks). */
  open(): { connections: number; subscriptions: number; addresses: number };
}

/** What a transport needs to enforce the limits: the limits, how a request's client address is read, and who hears of refusals. */
export interface LiveGuard {
  limits: LiveLimits;
  addressOf(req: RequestIdentity): string;
  onRefused(refusal: LiveRefusal, address: string): void;
}

/** A count per key under a cap per key and a cap in total; a key at zero is forgotten. */
class Tally {
  readonly #perKey = new Map<string, number>();
  #total = 0;

  constructor(
    private readonly maxPerKey: number,
    private readonly maxTotal: number,
  ) {}

  get total(): number {
    return this.#total;
  }

  get keys(): number {
    return this.#perKey.size;
  }

  /** Counts one for `key`, or says which cap is full. */
  take(key: string): 'key' | 'total' | undefined {
    const held = this.#perKey.get(key) ?? 0;
    if (held >= this.maxPerKey) return 'key';
    if (this.#total >= this.maxTotal) return 'total';
    this.#perKey.set(key, held + 1);
    this.#total++;
    return undefined;
  }

  give(key: string): void {
    const held = this.#perKey.get(key);
    if (held === undefined) return;
    this.#total--;
    if (held > 1) this.#perKey.set(key, held - 1);
    else this.#perKey.delete(key);
  }
}

export function createLiveLimits(config: LiveLimitsConfig): LiveLimits {
  const connections = new Tally(config.connectionsPerAddress, config.connectionsTotal);
  const subscriptions = new Tally(config.subscriptionsPerAddress, config.subscriptionsTotal);
  return {
    config,
    connection(address) {
      const full = connections.take(address);
      return full === 'key' ? 'connections_per_address' : full === 'total' ? 'connections_total' : undefined;
    },
    endConnection: (address) => connections.give(address),
    subscription(address, onConnection) {
      if (onConnection >= config.subscriptionsPerSocket) return 'subscriptions_per_socket';
      const full = subscriptions.take(address);
      return full === 'key' ? 'subscriptions_per_address' : full === 'total' ? 'subscriptions_total' : undefined;
    },
    endSubscription: (address) => subscriptions.give(address),
    stream(address) {
      const refused = this.connection(address);
      if (refused) return refused;
      const tooMany = this.subscription(address, 0);
      if (tooMany) connections.give(address);
      return tooMany;
    },
    endStream(address) {
      connections.give(address);
      subscriptions.give(address);
    },
    open: () => ({ connections: connections.total, subscriptions: subscriptions.total, addresses: connections.keys + subscriptions.keys }),
  };
}

/** What a refused client reads: a message naming the limit, and the error code (TOO_MANY_SUBSCRIPTIONS, TOO_MANY_CONNECTIONS). */
export function refusalText(refusal: LiveRefusal, config: LiveLimitsConfig): { message: string; code: string } {
  const [what, max] =
    refusal === 'subscriptions_per_socket'
      ? ['Too many subscriptions on this connection', config.subscriptionsPerSocket]
      : refusal === 'subscriptions_per_address'
        ? ['Too many subscriptions from this address', config.subscriptionsPerAddress]
        : refusal === 'subscriptions_total'
          ? ['Too many subscriptions on this server; try again later', config.subscriptionsTotal]
          : refusal === 'connections_per_address'
            ? ['Too many connections from this address', config.connectionsPerAddress]
            : ['Too many connections on this server; try again later', config.connectionsTotal];
  return { message: `${what} (at most ${max})`, code: refusal.startsWith('subscriptions') ? 'TOO_MANY_SUBSCRIPTIONS' : 'TOO_MANY_CONNECTIONS' };
}
