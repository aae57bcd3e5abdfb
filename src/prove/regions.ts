import { PROVE_SERVERS } from './servers.js';

/**
 * Prove's two regions: North-American numbers are served by the US hosts, every other number by
 * the EU (international) hosts, and each region has its own OAuth credentials. Nothing here knows
 * about flows: this is where Prove's rule lives, for the gateway to route by.
 */

export const PROVE_REGIONS = ['us', 'eu'] as const;
export type ProveRegion = (typeof PROVE_REGIONS)[number];

/** sandbox: Prove's UAT hosts; production: its live hosts. */
export type ProveMode = 'sandbox' | 'production';

export function isProveRegion(value: string): value is ProveRegion {
  return (PROVE_REGIONS as readonly string[]).includes(value);
}

/** The host of a region in a mode, from the SDK's own server list. */
export const serverOf = (region: ProveRegion, mode: ProveMode): string =>
  PROVE_SERVERS[`${mode === 'production' ? 'prod' : 'uat'}-${region}`];

/**
 * The region Prove serves an E.164 number from: country calling code 1 (the North American
 * Numbering Plan: the US, Canada and the Caribbean countries that share it) is the US region;
 * every other number, Prove's international sandbox users (+20…) included, is the EU region.
 */
export const regionOfNumber = (e164: string): ProveRegion => (e164.startsWith('+1') ? 'us' : 'eu');

/** One region's connection: where to call and with which OAuth client. */
export interface RegionTarget {
  serverURL: string;
  clientId: string;
  clientSecret: string;
}
