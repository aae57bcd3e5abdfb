import type { IncomingMessage } from 'node:http';

/**
 * The client's address for limits and idempotency scoping. X-Forwarded-For is believed only for as
 * many hops as there are proxies we run; anything further left was written by the client.
 */
export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops === 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[hops.length - trustProxyHops] ?? hops[0] ?? socketAddress;
}
