import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Random base64url tokens (flow ids) from the system's CSPRNG, drawn from a batch: randomBytes per
 * token is a call into OpenSSL and a new Buffer each time, where one fill serves a few hundred
 * tokens. Every byte is handed out once and zeroed as it is, so the batch never holds a token
 * already given out.
 */
const batch = Buffer.alloc(4096);
let next = batch.length;

export function randomToken(bytes: number): string {
  if (bytes > batch.length) return randomBytes(bytes).toString('base64url');
  if (next + bytes > batch.length) {
    randomFillSync(batch);
    next = 0;
  }
  const token = batch.toString('base64url', next, next + bytes);
  batch.fill(0, next, next + bytes);
  next += bytes;
  return token;
}
