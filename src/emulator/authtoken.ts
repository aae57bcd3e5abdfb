/**
 * The authToken handed to the client SDK: a JWT (HS256) naming the session by an opaque
 * reference. The token travels to the browser, so it must not carry the correlation id, which
 * the gateway keeps server-side. Signed with a key that exists only in this process, so a token
 * from another emulator instance, or a tampered one, is refused by /sim/authenticate.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export class AuthTokenSigner {
  private readonly key = randomBytes(32);
  private readonly sessions = new Map<string, string>();

  sign(correlationId: string, issuedAtMs: number, expiresAtMs: number): string {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const ref = randomBytes(16).toString('base64url');
    this.sessions.set(ref, correlationId);
    const payload = b64({
      iss: 'prove-emulator',
      sub: ref,
      iat: Math.floor(issuedAtMs / 1000),
      exp: Math.ceil(expiresAtMs / 1000),
      jti: randomUUID(),
    });
    return `${header}.${payload}.${this.mac(`${header}.${payload}`)}`;
  }

  /** The correlation id inside a genuine token, or undefined. Expiry is the session's business. */
  verify(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
      return typeof claims.sub === 'string' ? this.sessions.get(claims.sub) : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}
