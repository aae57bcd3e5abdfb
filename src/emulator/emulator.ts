/**
 * Wiring and routing: builds the parts from the options and sends each path to its handler.
 * The pipeline for Prove's endpoints is: count -> injected fault -> OAuth -> rate limit ->
 * body -> model. Faults come first because they stand for Prove (or the network) misbehaving
 * before any of Prove's own logic runs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthTokenSigner } from './authtoken.js';
import { ApiError, Codes } from './errors.js';
import { FaultInjector } from './faults.js';
import { readForm, readJson, sendJson } from './http.js';
import type { EmulatorOptions, ProveEmulator } from './types.js';
import { Device } from './device.js';
import { KeyStore } from './keys.js';
import { OAuthServer } from './oauth.js';
import { SANDBOX_USERS } from './phone.js';
import { RateLimiter } from './ratelimit.js';
import { Sessions } from './sessions.js';
import { RegionalStats } from './stats.js';
import { REGIONS, doorOf, type Door, type Region } from './regions.js';
import {
  bindBody,
  deviceRevokeBody,
  faultBody,
  parseBody,
  simAuthenticateBody,
  statusBody,
  unifyBody,
  type Endpoint,
} from './validation.js';

type Handler = (req: IncomingMessage, res: ServerResponse, door: Door) => Promise<void>;

export function createProveEmulator(options: EmulatorOptions = {}): ProveEmulator {
  const now = options.now ?? Date.now;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const clientId = options.clientId ?? process.env.EMULATOR_CLIENT_ID ?? 'emulator-client';
  const clientSecret = options.clientSecret ?? process.env.EMULATOR_CLIENT_SECRET ?? 'emulator-secret';
  const env = (region: Region, name: 'CLIENT_ID' | 'CLIENT_SECRET') => process.env[`EMULATOR_${region.toUpperCase()}_${name}`];
  // One OAuth client per door: each region has its own credentials, as at Prove.
  const oauth: Record<Door, OAuthServer> = {
    global: new OAuthServer({ clientId, clientSecret, tokenTtlSeconds, now }),
    ...(Object.fromEntries(
      REGIONS.map((region) => [
        region,
        new OAuthServer({
          clientId: options.regions?.[region]?.clientId ?? env(region, 'CLIENT_ID') ?? clientId,
          clientSecret: options.regions?.[region]?.clientSecret ?? env(region, 'CLIENT_SECRET') ?? clientSecret,
          tokenTtlSeconds,
          now,
        }),
      ]),
    ) as Record<Region, OAuthServer>),
  };
  const keys = new KeyStore();
  const signer = new AuthTokenSigner();
  const sessions = new Sessions(
    {
      flowTtlMs: options.flowTtlMs ?? 15 * 60_000,
      otpWindowMs: options.otpWindowMs ?? 2 * 60_000,
      linkWindowMs: options.linkWindowMs ?? 3 * 60_000,
      now,
    },
    keys,
    signer,
  );
  const device = new Device(sessions, signer, { phoneNumberChange: options.phoneNumberChange ?? true });
  const limiter = new RateLimiter(options.rateLimitPerSecond ?? 25, now);
  const stats = new RegionalStats();
  const faults = new FaultInjector();
  const servers = new Set<Server>();

  /** Runs one of Prove's endpoints with counting and fault injection around `perform`. */
  const proveEndpoint =
    (endpoint: Endpoint, perform: (req: IncomingMessage, door: Door) => Promise<unknown>): Handler =>
    async (req, res, door) => {
      const counted = stats.at(door);
      counted.call(endpoint);
      const reply = (status: number, body: unknown, headers?: Record<string, string>): void => {
        if (res.headersSent || res.destroyed) return;
        counted.response(endpoint, status);
        sendJson(res, status, body, headers);
      };
      const fault = await faults.intercept(endpoint, door, req, res, reply);
      if (fault === true) return;
      try {
        const answer = await perform(req, door);
        if (fault === 'drop-answer') return void req.socket.destroy();
        reply(200, answer);
      } catch (err) {
        const e = asApiError(err);
        reply(e.status, { code: e.code, message: e.message }, e.headers);
      }
    };

  /** OAuth (the door's own client) then the per-client rate limit, shared by the /v3 endpoints. */
  const authorize = (req: IncomingMessage, door: Door): void => {
    const clientId = oauth[door].authenticate(req.headers.authorization);
    if (!limiter.allow(`${door}:${clientId}`)) {
      stats.at(door).rateLimited();
      throw new ApiError(429, Codes.internal, 'rate limit exceeded', { 'retry-after': '1' });
    }
  };

  /** Simulation/test routes: plain JSON in and out, not counted. */
  const sim =
    (perform: (req: IncomingMessage) => Promise<unknown> | unknown): Handler =>
    async (req, res) => {
      try {
        sendJson(res, 200, await perform(req));
      } catch (err) {
        const e = asApiError(err);
        sendJson(res, e.status, { code: e.code, message: e.message }, e.headers);
      }
    };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/token': {
      POST: proveEndpoint('/token', async (req, door) => {
        const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const grant = oauth[door].issue(await readForm(req), basic);
        stats.at(door).tokenIssued();
        return grant;
      }),
    },
    '/v3/unify': {
      POST: proveEndpoint('/v3/unify', async (req, door) => {
        authorize(req, door);
        const body = parseBody(unifyBody, await readJson(req));
        const started = sessions.start(body, door);
        // Counted once the session exists (the SMS is out), whether or not the answer reaches the caller.
        stats.at(door).unifyPerformed(body.clientRequestId);
        return started;
      }),
    },
    '/v3/unify-status': {
      POST: proveEndpoint('/v3/unify-status', async (req, door) => {
        authorize(req, door);
        return sessions.status(parseBody(statusBody, await readJson(req)), door);
      }),
    },
    '/v3/unify-bind': {
      POST: proveEndpoint('/v3/unify-bind', async (req, door) => {
        authorize(req, door);
        return sessions.bind(parseBody(bindBody, await readJson(req)), door);
      }),
    },
    '/v3/device/revoke': {
      POST: proveEndpoint('/v3/device/revoke', async (req, door) => {
        authorize(req, door);
        const body = parseBody(deviceRevokeBody, await readJson(req));
        // Revoking twice is still a revoked key; a deviceId never issued is Prove's 404 8011.
        if (keys.revoke(body.deviceId) === 'unknown') throw new ApiError(404, Codes.notFound, 'device not found');
        return { success: true };
      }),
    },
    '/sim/authenticate': {
      POST: sim(async (req) => device.authenticate(parseBody(simAuthenticateBody, await readJson(req)))),
    },
    '/sim/stats': { GET: sim(() => stats.snapshot()) },
    '/sim/stats/reset': {
      POST: sim(() => {
        stats.reset();
        return stats.snapshot();
      }),
    },
    '/sim/faults': {
      POST: sim(async (req) => {
        const spec = parseBody(faultBody, await readJson(req));
        return { endpoint: spec.endpoint, pending: faults.add(spec) };
      }),
      DELETE: sim(() => {
        faults.clear();
        return { cleared: true };
      }),
    },
    '/sim/revoke-tokens': { POST: sim(() => ({ revoked: Object.values(oauth).reduce((n, server) => n + server.revokeAll(), 0) })) },
    '/sim/users': { GET: sim(() => ({ users: SANDBOX_USERS })) },
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://emulator').pathname;
    } catch {
      pathname = '';
    }
    const { door, path } = doorOf(pathname);
    // The regional doors serve Prove's endpoints only; /sim is the device and the test bench, at the root.
    const methods = door === 'global' || !path.startsWith('/sim/') ? routes[path] : undefined;
    if (!methods) {
      sendJson(res, 404, { code: Codes.malformed, message: 'not found' });
      return;
    }
    const handler = methods[req.method ?? ''];
    if (!handler) {
      sendJson(res, 405, { code: Codes.malformed, message: 'method not allowed' }, { allow: Object.keys(methods).join(', ') });
      return;
    }
    handler(req, res, door).catch(() => {
      // Handlers catch their own errors; this only guards against a bug turning into a hang.
      sendJson(res, 500, { code: Codes.internal, message: 'internal error' });
    });
  };

  const listen: ProveEmulator['listen'] = async ({ port = 0, host = '127.0.0.1' } = {}) => {
    const server = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.add(server);
    const address = server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${hostPart}:${address.port}`,
      close: () => closeServer(server, servers),
    };
  };

  return {
    handle,
    listen,
    async close() {
      faults.close();
      await Promise.all([...servers].map((s) => closeServer(s, servers)));
    },
  };
}

function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // Never echo an unexpected error's text: it could carry request data.
  return new ApiError(500, Codes.internal, 'internal error');
}

/** Closes a server including idle keep-alive and hung connections, so close() really returns. */
function closeServer(server: Server, registry: Set<Server>): Promise<void> {
  registry.delete(server);
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
