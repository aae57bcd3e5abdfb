import type { IncomingHttpHeaders } from 'node:http';
import parseForwarded from 'forwarded-parse';
import proxyaddr from 'proxy-addr';

/**
 * What the gateway reads of a request to know who sent it: its headers (Authorization,
 * X-Forwarded-For or Forwarded) and its socket's address. An IncomingMessage is one; graphql-ws
 * keeps only this of an upgrade request for as long as its socket is open (src/transport/ws.ts).
 */
export interface RequestIdentity {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/** Which peers are our own proxies (TRUSTED_PROXIES), and which header they write (TRUST_PROXY_HEADER). */
export interface ProxyTrust {
  /** proxy-addr's trust list: addresses, CIDR ranges, or loopback / linklocal / uniquelocal. */
  proxies: readonly string[];
  header: 'x-forwarded-for' | 'forwarded';
}

export const NO_PROXIES: ProxyTrust = { proxies: [], header: 'x-forwarded-for' };

/** Throws (with proxy-addr's message) when an entry is not an address, a range or a known name. */
export function compileProxyTrust(trust: ProxyTrust): (request: RequestIdentity) => string {
  if (trust.proxies.length === 0) return (req) => req.socket.remoteAddress ?? 'unknown';
  const trusted = proxyaddr.compile([...trust.proxies]);
  return (req) => {
    const socketAddress = req.socket.remoteAddress ?? 'unknown';
    // A header is believed only from a trusted peer, and only as far back as the chain consists of
    // trusted proxies: the first address from the right that is not ours is the client. What a
    // client wrote further left is never read.
    const forwardedFor = trust.header === 'forwarded' ? forwardedChain(req.headers.forwarded) : joined(req.headers['x-forwarded-for']);
    if (forwardedFor === undefined) return socketAddress;
    try {
      return proxyaddr({ headers: { 'x-forwarded-for': forwardedFor }, connection: { remoteAddress: socketAddress }, socket: { remoteAddress: socketAddress } } as never, trusted);
    } catch {
      return socketAddress;
    }
  };
}

const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

/**
 * RFC 7239 `Forwarded: for=…` as an X-Forwarded-For chain (left to right). A header that does not
 * parse is not believed at all; an obfuscated or unknown `for` ends the chain there.
 */
function forwardedChain(value: string | string[] | undefined): string | undefined {
  const text = joined(value);
  if (!text) return undefined;
  let elements: Array<Record<string, string>>;
  try {
    elements = parseForwarded(text);
  } catch {
    return undefined;
  }
  const hops = elements.map((e) => hostOf(e.for ?? 'unknown'));
  return hops.join(',');
}

/** `192.0.2.1:4711` / `[2001:db8::1]:4711` / `2001:db8::1` -> the address alone. */
function hostOf(node: string): string {
  if (node.startsWith('[')) return node.slice(1, node.indexOf(']'));
  const colons = node.split(':').length - 1;
  return colons === 1 ? node.slice(0, node.indexOf(':')) : node;
}
