import type { ServerOptions } from 'node:http';
import type { HttpTimeouts } from '../config.js';

/**
 * node:http's server options for the configured timeouts. Node checks the headers and request
 * timeouts only every `connectionsCheckingInterval` (30 s by default), so a connection that never
 * finishes its headers would live up to 30 s past its deadline: the check runs five times per
 * shortest timeout instead (at most every 2 s), so a slowloris connection is closed within the
 * timeout plus a fifth of it.
 */
export function httpServerOptions(timeouts: HttpTimeouts): ServerOptions {
  const shortest = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  return {
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(2_000, Math.max(50, Math.floor(shortest / 5))),
  };
}
