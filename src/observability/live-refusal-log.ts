import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { LiveRefusal } from '../security/live-limits.js';

/** How often at most one offender is logged; its refusals in between are counted on its next line. */
const WINDOW_MS = 60_000;
/** Offenders remembered at once: beyond this the oldest is forgotten (and may be logged again sooner). */
const MAX_OFFENDERS = 10_000;

export type LiveTransport = 'graphql-ws' | 'sse';
export type LiveRefusalWarning = (refusal: LiveRefusal, transport: LiveTransport, address: string) => void;

/**
 * A warning when a client is refused a connection or a subscription (src/security/live-limits.ts),
 * at most one line per offender per minute, each with the number of refusals it stands for, so a
 * flood of thousands of refused subscriptions is a handful of lines. The offender is its network
 * (IPv4 /24, IPv6 /48): enough to see where a flood comes from and block it, without writing a
 * user's full address to the log.
 */
export function liveRefusalWarning(logger: Pick<Logger, 'warn'>, now: () => number = Date.now): LiveRefusalWarning {
  const offenders = new Map<string, { since: number; unlogged: number }>();
  return (refusal, transport, address) => {
    const network = networkOf(address);
    const at = now();
    const seen = offenders.get(network);
    if (seen && at - seen.since < WINDOW_MS) {
      seen.unlogged++;
      return;
    }
    offenders.delete(network);
    if (offenders.size >= MAX_OFFENDERS) offenders.delete(offenders.keys().next().value!);
    offenders.set(network, { since: at, unlogged: 0 });
    logger.warn({ refusal, transport, network, refusals: (seen?.unlogged ?? 0) + 1 }, 'live connection or subscription refused by its limit');
  };
}

/** 203.0.113.7 -> 203.0.113.0/24; 2001:db8:1:2::7 -> 2001:db8:1::/48; anything else: "unknown". */
export function networkOf(address: string): string {
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(address)) return 'unknown';
  const [head = '', tail] = address.split('::');
  const groups = head ? head.split(':') : [];
  if (tail === undefined && groups.length < 3) return 'unknown';
  while (groups.length < 3) groups.push('0');
  return `${groups.slice(0, 3).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/48`;
}
