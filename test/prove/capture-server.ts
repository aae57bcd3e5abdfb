/**
 * A tiny stand-in for Prove over real HTTP that records every raw request, for what the
 * emulator cannot show: request fields it does not echo, and response shapes it never sends
 * (boolean `success`, unknown fields, odd error bodies).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  /** Serialised as JSON unless `raw` is given. */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export type Responder = (req: CapturedRequest) => Reply | undefined;

export const CAPTURE_CLIENT_ID = 'capture-client';
export const CAPTURE_CLIENT_SECRET = 'capture-secret-value';
export const CAPTURE_TOKEN = 'capture-access-token-0123456789';

/** Prove's answer to a good client-credentials exchange. */
export const tokenReply = (token = CAPTURE_TOKEN, expiresIn = 3600): Reply => ({
  json: { access_token: token, token_type: 'Bearer', expires_in: expiresIn },
});

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Requests to one path, in arrival order. */
  to(path: string): CapturedRequest[];
  close(): Promise<void>;
}

/**
 * `respond` answers each request; returning undefined falls back to a valid token on /token and
 * a 404 elsewhere.
 */
export async function startCaptureServer(respond: Responder): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: CapturedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(captured);
      const reply = respond(captured) ?? (captured.path === '/token' ? tokenReply() : { status: 404, json: { message: 'not found' } });
      const send = () => {
        const body = reply.raw ?? JSON.stringify(reply.json ?? {});
        res.writeHead(reply.status ?? 200, {
          'content-type': reply.raw === undefined ? 'application/json' : 'text/html',
          ...reply.headers,
        });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    to: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
