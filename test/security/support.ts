import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import { createProveEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { emulatorClient, TEST_API_KEY, type EmulatorClient } from '../support/gateway.js';

/** Fixtures for the security suites: captured logs, a standalone Prove emulator seen through a recorder, WebSocket clients. */

export const EMULATOR_CLIENT_ID = 'emulator-client';
export const EMULATOR_CLIENT_SECRET = 'emulator-secret';

/** The gateway's real logger (with its redaction list), at trace level, writing every line to memory. */
export function captureLogs(level = 'trace'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** Every secret that must never reach a log line, and the lines that contain one. */
export function leaks(lines: readonly string[], secrets: Iterable<string>): { secret: string; line: string }[] {
  const found: { secret: string; line: string }[] = [];
  for (const secret of new Set(secrets)) {
    if (!secret || secret.length < 6) continue;
    const variants = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
    // A number also leaks without its +, or in its national form.
    if (/^\+\d{8,}$/.test(secret)) variants.add(secret.slice(1)).add(secret.slice(2));
    for (const line of lines) {
      if ([...variants].some((v) => line.includes(v))) found.push({ secret, line });
    }
  }
  return found;
}

export interface Upstream {
  /** Where the gateway should send its Prove calls (PROVE_BASE_URL). */
  url: string;
  sim: EmulatorClient;
  /** What went over the wire: access tokens minted, correlation ids and authTokens handed out, the trace context of each request. */
  seen: { accessTokens: Set<string>; correlationIds: Set<string>; authTokens: Set<string>; traceparents: { path: string; traceparent: string }[] };
  /** Env for a gateway that talks to this emulator as if it were Prove. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });

/**
 * A standalone emulator (as `npm run emulator` runs it) behind a small recording hop, so a test
 * knows the access tokens and correlation ids the gateway received and can look for them in logs.
 */
export async function startUpstream(options: EmulatorOptions = {}): Promise<Upstream> {
  const emulator = createProveEmulator({ clientId: EMULATOR_CLIENT_ID, clientSecret: EMULATOR_CLIENT_SECRET, ...options });
  const served = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const seen = { accessTokens: new Set<string>(), correlationIds: new Set<string>(), authTokens: new Set<string>(), traceparents: [] as { path: string; traceparent: string }[] };
  const recorder: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (typeof req.headers.traceparent === 'string') seen.traceparents.push({ path: req.url ?? '', traceparent: req.headers.traceparent });
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'authorization', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = await fetch(`${served.url}${req.url}`, {
        method: req.method,
        headers,
        ...(body.length ? { body: new Uint8Array(body) } : {}),
      });
      const text = await upstream.text();
      try {
        const json = JSON.parse(text) as Record<string, unknown>;
        for (const [key, set] of [['access_token', seen.accessTokens], ['correlationId', seen.correlationIds], ['authToken', seen.authTokens]] as const) {
          if (typeof json[key] === 'string') set.add(json[key] as string);
        }
      } catch {
        // not JSON: nothing to record
      }
      const out: Record<string, string> = {};
      for (const name of ['content-type', 'retry-after', 'www-authenticate']) {
        const value = upstream.headers.get(name);
        if (value) out[name] = value;
      }
      res.writeHead(upstream.status, out).end(text);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  return {
    url,
    sim: emulatorClient(served.url),
    seen,
    env: { PROVE_CLIENT_ID: EMULATOR_CLIENT_ID, PROVE_CLIENT_SECRET: EMULATOR_CLIENT_SECRET, PROVE_BASE_URL: url },
    async close() {
      recorder.closeAllConnections();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
      await served.close();
      await emulator.close();
    },
  };
}

export const wsUrl = (graphqlUrl: string) => graphqlUrl.replace(/^http/, 'ws');

/** A graphql-ws client on `ws`, optionally trusted, with extra upgrade headers (X-Forwarded-For, Origin). */
export function wsClient(graphqlUrl: string, options: { apiKey?: string; headers?: Record<string, string> } = {}): Client {
  const headers = options.headers ?? {};
  class HeaderedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({
    url: wsUrl(graphqlUrl),
    webSocketImpl: HeaderedWebSocket,
    connectionParams: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    retryAttempts: 0,
    lazyCloseTimeout: 60_000,
  });
}

export const trustedWs = (graphqlUrl: string) => wsClient(graphqlUrl, { apiKey: TEST_API_KEY });

export interface WsOutcome {
  results: ExecutionResult<Record<string, unknown>>[];
  /** Operation errors graphql-ws delivered (parse/validation failures). */
  errors?: { message: string }[];
  /** The socket closed under the operation. */
  closed?: { code: number; reason: string };
  completed: boolean;
}

/** Runs one operation to completion (or error) over graphql-ws. */
export function wsRun(
  client: Client,
  payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  timeoutMs = 10_000,
): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const outcome: WsOutcome = { results: [], completed: false };
    const timer = setTimeout(() => {
      dispose();
      resolve(outcome);
    }, timeoutMs);
    const dispose = client.subscribe(payload as never, {
      next: (value) => outcome.results.push(value as ExecutionResult<Record<string, unknown>>),
      error: (error: unknown) => {
        clearTimeout(timer);
        if (Array.isArray(error)) outcome.errors = error as { message: string }[];
        else if (error && typeof error === 'object' && 'code' in error) {
          const { code, reason } = error as { code: number; reason: string };
          outcome.closed = { code, reason };
        } else outcome.errors = [{ message: error instanceof Error ? error.message : String(error) }];
        resolve(outcome);
      },
      complete: () => {
        clearTimeout(timer);
        outcome.completed = true;
        resolve(outcome);
      },
    });
  });
}

/** A raw WebSocket handshake: what the server answered to the upgrade (HTTP status on refusal). */
export function wsHandshake(
  graphqlUrl: string,
  headers: Record<string, string>,
): Promise<{ opened: boolean; status?: number; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl(graphqlUrl), 'graphql-transport-ws', { headers });
    socket.once('open', () => resolve({ opened: true, socket }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0 });
      res.resume();
      socket.terminate();
    });
    socket.once('error', () => resolve({ opened: false }));
  });
}

/** Sends raw frames on an open graphql-transport-ws socket and reports how the server closed it. */
export function wsCloseAfter(
  graphqlUrl: string,
  frames: (string | Buffer)[],
  options: { init?: boolean; headers?: Record<string, string> } = {},
): Promise<{ code: number; reason: string; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(graphqlUrl), 'graphql-transport-ws', { headers: options.headers ?? {} });
    const messages: string[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ code: 0, reason: 'still open', messages });
    }, 5_000);
    socket.on('message', (data) => {
      const text = data.toString();
      messages.push(text);
      if (text.includes('"connection_ack"')) for (const frame of frames) socket.send(frame);
    });
    socket.once('open', () => {
      if (options.init === false) for (const frame of frames) socket.send(frame);
      else socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    });
    socket.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), messages });
    });
    socket.once('error', (error) => {
      if (socket.readyState === WebSocket.CLOSED) return;
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A POST whose body arrives in chunks with no Content-Length: the size cap must hold without one. */
export function postChunked(graphqlUrl: string, chunks: number, chunkBytes = 8_192): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(graphqlUrl);
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (let i = 0; i < chunks; i++) req.write('x'.repeat(chunkBytes));
    req.end();
  });
}
