import { ServerList } from '@prove-identity/prove-api/lib/config.js';

/**
 * Prove's hosts by environment name, taken from the SDK's own server list so that
 * server selection stays the SDK's business. The config layer maps PROVE_ENV through this;
 * the adapter itself always receives an explicit serverURL, because the SDK silently falls
 * back to the US sandbox when given none.
 */
export const PROVE_SERVERS: Readonly<Record<ProveEnv, string>> = ServerList;

export type ProveEnv = keyof typeof ServerList;

export function isProveEnv(value: string): value is ProveEnv {
  return Object.hasOwn(PROVE_SERVERS, value);
}
