/**
 * OAuth 2.0 client credentials, as Prove's `/token` does it: one configured client, opaque
 * bearer tokens that expire, no refresh tokens. Tokens live only in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { unauthorized } from './errors.js';

export interface TokenGrant {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  tokenTtlSeconds: number;
  now: () => number;
}

/** Compares digests so neither the length nor the prefix of the secret leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export class OAuthServer {
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(private readonly options: OAuthOptions) {}

  /** Exchanges form fields (or HTTP Basic credentials, which RFC 6749 also allows) for a token. */
  issue(form: URLSearchParams, basicAuth?: string): TokenGrant {
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    if (basicAuth && clientId === undefined && clientSecret === undefined) {
      const decoded = Buffer.from(basicAuth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        clientId = decodeURIComponent(decoded.slice(0, colon));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (form.get('grant_type') !== 'client_credentials') {
      throw unauthorized('unsupported grant_type: expected client_credentials');
    }
    if (
      clientId === undefined ||
      clientSecret === undefined ||
      !sameSecret(clientId, this.options.clientId) ||
      !sameSecret(clientSecret, this.options.clientSecret)
    ) {
      throw unauthorized('invalid client credentials');
    }
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    const ttl = this.options.tokenTtlSeconds;
    this.tokens.set(token, { clientId, expiresAt: this.options.now() + ttl * 1000 });
    return { access_token: token, token_type: 'Bearer', expires_in: ttl };
  }

  /** Returns the OAuth client behind an `Authorization` header, or throws 401 8002. */
  authenticate(header: string | undefined): string {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw unauthorized('missing bearer token');
    const entry = this.tokens.get(match[1]!);
    if (!entry) throw unauthorized('invalid access token');
    if (entry.expiresAt <= this.options.now()) {
      this.tokens.delete(match[1]!);
      throw unauthorized('access token expired');
    }
    return entry.clientId;
  }

  /** Forgets every issued token: the next API call gets 401, which exercises token refresh. */
  revokeAll(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  /** Expired tokens are dropped when new ones are minted, so the map cannot grow without bound. */
  private sweep(): void {
    const now = this.options.now();
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(token);
  }
}
