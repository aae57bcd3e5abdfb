/**
 * Counts what a client holds open — connections (graphql-ws sockets, SSE streams) and running
 * subscriptions — per client address and in total, under configured caps, so that one client
 * cannot hold the whole process's memory and event loop with tens of thousands of subscriptions.
 * Every slot taken comes with its release, which the transport calls when the thing it counts
 * ends (the socket's or the response's close); a release counts once however often it is called,
 * and an address with nothing open is forgotten.
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

/** Gives the slot back; only the first call counts. */
export type Release = () => void;

export interface LiveLimits {
  readonly config: LiveLimitsConfig;
  /** A connection from `address`: its release, or the cap that refused it. */
  connection(address: string): Release | LiveRefusal;
  /** A subscription from `address` on a connection already running `onConnection` of them (SSE: 0). */
  subscription(address: string, onConnection: number): Release | LiveRefusal;
  /** What is open now, and how many per-address counters are kept for it (leak checks). */
  open(): { connections: number; subscriptions: number; addresses: number };
}

/** What a transport needs to enforce the limits: the limits, how a request's client address is read, and who hears of refusals. */
export interface LiveGuard {
  limits: LiveLimits;
  addressOf(req: RequestIdentity): string;
  onRefused(refusal: LiveRefusal, address: string): void;
}

/** A count per key under a cap per key and a cap in total. */
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

  /** A release, or which cap is full. */
  take(key: string): Release | 'key' | 'total' {
    const held = this.#perKey.get(key) ?? 0;
    if (held >= this.maxPerKey) return 'key';
    if (this.#total >= this.maxTotal) return 'total';
    this.#perKey.set(key, held + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perKey.get(key) ?? 1) - 1;
      if (left > 0) this.#perKey.set(key, left);
      else this.#perKey.delete(key);
    };
  }
}

export function createLiveLimits(config: LiveLimitsConfig): LiveLimits {
  const connections = new Tally(config.connectionsPerAddress, config.connectionsTotal);
  const subscriptions = new Tally(config.subscriptionsPerAddress, config.subscriptionsTotal);
  return {
    config,
    connection(address) {
      const taken = connections.take(address);
      if (taken === 'key') return 'connections_per_address';
      if (taken === 'total') return 'connections_total';
      return taken;
    },
    subscription(address, onConnection) {
      if (onConnection >= config.subscriptionsPerSocket) return 'subscriptions_per_socket';
      const taken = subscriptions.take(address);
      if (taken === 'key') return 'subscriptions_per_address';
      if (taken === 'total') return 'subscriptions_total';
      return taken;
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
