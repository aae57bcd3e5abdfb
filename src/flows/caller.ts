import { sha256 } from '../lib/hash.js';

/**
 * Who is calling. Public callers hold only flow ids (capabilities); trusted backends present an
 * API key and may bind phones and see correlation ids and full numbers. How a request proves
 * which one it is lives in src/security/caller.ts.
 */
export type Caller =
  | { kind: 'trusted'; keyId: string; address: string }
  | { kind: 'public'; address: string };

/** The identity idempotency is scoped to: the same API key, or for public callers the same address. */
export const ownerOf = (caller: Caller): string =>
  sha256(caller.kind === 'trusted' ? `key:${caller.keyId}` : `addr:${caller.address}`);
