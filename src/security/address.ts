import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the gateway reads of a request to know who sent it: its headers (Authorization,
 * X-Forwarded-For) and its socket's address. An IncomingMessage is one; graphql-ws keeps only
 * this of an upgrade request for as long as its socket is open (src/transport/ws.ts).
 */
export interface RequestIdentity {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/**
 * The client's address for limits and idempotency scoping. X-Forwarded-For is believed only for as
 * many hops as there are proxies we run; anything further left was written by the client.
 */
export function clientAddress(req: RequestIdentity, trustProxyHops: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops === 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[hops.length - trustProxyHops] ?? hops[0] ?? socketAddress;
}
