export * from './types.js';
export { createProveClient, type ProveClientOptions } from './adapter.js';
export { PROVE_SERVERS, isProveEnv, type ProveEnv } from './servers.js';
export type { RetryPolicy } from './retry.js';
export type { ProveLogger } from './logger.js';
export type { Endpoint, ExchangeTracer } from './transport.js';
export type { RawResponse } from './errors.js';
