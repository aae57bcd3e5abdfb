import { sha256 } from '../lib/hash.js';
import { BoundedMemo } from '../lib/bounded-memo.js';

/**
 * Who is calling. Public callers hold only flow ids (capabilities); trusted backends present an
 * API key and may bind phones and see correlation ids and full numbers. How a request proves
 * which one it is lives in src/security/caller.ts.
 */
export type Caller =
  | { kind: 'trusted'; keyId: string; address: string }
  | { kind: 'public'; address: string };

/**
 * Who a clientRequestId belongs to: the API key for trusted callers; for public callers, nobody in
 * particular. The client address is not used: behind a proxy every user shares one, and a forged
 * one proves nothing.
 */
export const ownerOf = (caller: Caller): string => (caller.kind === 'trusted' ? trustedOwners.get(caller.keyId) : PUBLIC_OWNER);

// Derived on every start, from one of a few values: the configured API keys and "public".
const PUBLIC_OWNER = sha256('public');
const trustedOwners = new BoundedMemo((keyId: string) => sha256(`key:${keyId}`), 64);

/**
 * Whether a repeat of a start with this clientRequestId may return the flow it started, its
 * authToken included. Trusted callers: always (the id is scoped to their key). Public callers:
 * only for an unguessable id, which is its own proof: whoever holds it made it (or was given it).
 * A guessable one ("order-42") still prevents a second SMS, but a repeat is refused instead of
 * answered with a flow that may be someone else's.
 */
export const mayReplay = (caller: Caller, clientRequestId: string): boolean => caller.kind === 'trusted' || isUnguessable(clientRequestId);

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const LONG_TOKEN = /^[A-Za-z0-9_-]{32,}$/;

/**
 * At least ~120 random bits, as far as the shape can tell: a version-4 UUID (what
 * crypto.randomUUID() makes), or 32 or more base64url/hex characters with at least 12 distinct ones
 * (so "aaaa…" or "1234…" patterns are not taken for randomness).
 */
export function isUnguessable(id: string): boolean {
  if (UUID_V4.test(id)) return new Set(id.replace(/-/g, '')).size >= 8;
  return LONG_TOKEN.test(id) && new Set(id).size >= 12;
}
