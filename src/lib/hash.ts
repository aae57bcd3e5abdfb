import { hash } from 'node:crypto';

/**
 * SHA-256 in base64url: store keys and identities that must not show the value they stand for.
 * The one-shot `crypto.hash` (Node >= 20.12) costs half of a createHash object per call, and a
 * flow key is derived on every read.
 */
export const sha256 = (value: string): string => hash('sha256', value, 'base64url');
