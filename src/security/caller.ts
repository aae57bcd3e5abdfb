import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../flows/caller.js';

/** How a request proves who is calling (the caller itself is the domain's word: src/flows/caller.ts). */

const digest = (value: string) => createHash('sha256').update(value).digest();

export class ApiKeys {
  private readonly digests: Buffer[];
  constructor(keys: readonly string[]) {
    // Comparing fixed-length digests keeps the comparison constant-time whatever the key lengths.
    this.digests = keys.map(digest);
  }

  /** False when GATEWAY_API_KEYS is empty: nobody can be trusted, and NotAuthorizedError says why. */
  get configured(): boolean {
    return this.digests.length > 0;
  }

  /** The matching key's id (a short hash, safe to log), or undefined. */
  identify(presented: string): string | undefined {
    const candidate = digest(presented);
    let match: Buffer | undefined;
    for (const known of this.digests) {
      if (timingSafeEqual(candidate, known)) match = known;
    }
    return match?.toString('base64url').slice(0, 8);
  }
}

/**
 * The credential a request presents, read in one place for every use: graphql-ws admission at
 * connect (src/transport/ws.ts, via src/app/gateway.ts) and the GraphQL context of each operation and HTTP request
 * (src/graphql/context.ts). connectionParams.authorization (or
 * .Authorization) when it is a string, otherwise the request's Authorization header (on
 * graphql-ws, the upgrade request's).
 */
export function credentialOf(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  req: { headers: IncomingHttpHeaders } | undefined,
): string | undefined {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === 'string') return fromParams;
  return req?.headers.authorization;
}

/** `Bearer <key>` (HTTP header or graphql-ws connectionParams.authorization) -> the caller. */
export function identifyCaller(authorization: string | undefined | null, address: string, keys: ApiKeys): Caller | undefined {
  if (!authorization) return { kind: 'public', address };
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const keyId = match ? keys.identify(match[1]!) : undefined;
  // A wrong key is refused outright rather than downgraded to public: a misconfigured backend
  // should hear about it at once.
  return keyId ? { kind: 'trusted', keyId, address } : undefined;
}
