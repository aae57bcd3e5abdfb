import type { Plugin } from 'graphql-yoga';

/**
 * Which web origins may talk to the gateway: CORS for HTTP, and the same rule refusing
 * cross-site requests outright, on HTTP and on the WebSocket upgrade (a browser sends Origin on
 * every WebSocket handshake, and CORS does not apply there, so without this any page could open a
 * graphql-ws connection from a visitor's browser).
 *
 * - No Origin header: not a browser (or a same-origin GET/HEAD); allowed.
 * - CORS_ORIGINS lists the origin, or contains `*`: allowed.
 * - The origin is the gateway's own host (GraphiQL, a page it serves): allowed.
 * - CORS_ORIGINS empty: every origin in development; only the gateway's own in production.
 */
export interface OriginPolicyOptions {
  corsOrigins: readonly string[];
  production: boolean;
}

export interface OriginPolicy {
  allowed(origin: string | null | undefined, host: string | null | undefined): boolean;
}

const hostOf = (origin: string): string | undefined => {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
};

export function originPolicy({ corsOrigins, production }: OriginPolicyOptions): OriginPolicy {
  const listed = new Set(corsOrigins.map((o) => o.toLowerCase()));
  const anyOrigin = listed.has('*') || (listed.size === 0 && !production);
  return {
    allowed(origin, host) {
      if (!origin) return true;
      if (anyOrigin || listed.has(origin.toLowerCase())) return true;
      return host !== undefined && host !== null && hostOf(origin) === host.toLowerCase();
    },
  };
}

const refusal = JSON.stringify({
  errors: [{ message: 'Requests from this origin are not allowed (CORS_ORIGINS)', extensions: { code: 'FORBIDDEN_ORIGIN' } }],
});

/** CORS headers for allowed origins only, and a 403 for any other origin's request. */
export function useOriginPolicy(policy: OriginPolicy): Plugin {
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (policy.allowed(request.headers.get('origin'), request.headers.get('host'))) return;
      endResponse(
        new fetchAPI.Response(refusal, { status: 403, headers: { 'content-type': 'application/json; charset=utf-8' } }),
      );
    },
  };
}

/** yoga's `cors` option: reflect an allowed origin, say nothing to any other. */
export function corsFor(policy: OriginPolicy) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !policy.allowed(origin, request.headers.get('host'))) return false as const;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST'],
      maxAge: 600,
      // Browser clients may read the request id to quote it in a support request.
      exposedHeaders: ['x-request-id'],
    };
  };
}
