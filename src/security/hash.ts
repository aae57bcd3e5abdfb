import { createHash } from 'node:crypto';

/** SHA-256 in base64url: store keys and identities that must not show the value they stand for. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');
