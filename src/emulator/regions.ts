/**
 * Prove's two regions as the emulator serves them. Prove answers North-American numbers on its US
 * hosts and international numbers on its EU hosts, each with its own credentials; the sandbox of
 * one region does not know the other's test users. The emulator has one "door" per region, under
 * `/us` and `/eu`, and keeps its root as a single host that knows every user (one base URL for
 * tools and single-region setups).
 */

export const REGIONS = ['us', 'eu'] as const;
export type Region = (typeof REGIONS)[number];
/** Where a Prove call came in: a regional door, or the root that serves both regions. */
export type Door = Region | 'global';

export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}

/**
 * The region that serves a canonical number (see canonicalPhone: +1 numbers lose their prefix,
 * so a number without + is North-American).
 */
export const regionOfPhone = (canonical: string): Region => (canonical.startsWith('+') ? 'eu' : 'us');

export const serves = (door: Door, canonical: string): boolean => door === 'global' || regionOfPhone(canonical) === door;

/** Splits `/eu/v3/unify` into the door and the path Prove's endpoints know. */
export function doorOf(path: string): { door: Door; path: string } {
  const match = /^\/(us|eu)(\/.*)$/.exec(path);
  return match ? { door: match[1] as Region, path: match[2]! } : { door: 'global', path };
}
