import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * A webhook receiver as an operator's backend would run it: node:http on a free port, checking
 * every request with the `standardwebhooks` library itself. It answers from a script (a list of
 * statuses, then `then`), can go down (its port closed) and come back on the same port, and keeps
 * every request it saw.
 */

export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered. */
  status: number;
  /** The payload as the library verified it; undefined when verification failed. */
  verified: { type: string; timestamp: string; data: Record<string, any> } | undefined;
  verifyError?: string;
  /** The W3C trace header the sender passed on, if any. */
  traceparent?: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Verified requests answered 2xx: what the backend accepted. */
  accepted(): Received[];
  /** The next answers, in order; after them, `then` (default 204). */
  script(statuses: number[], then?: number): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, { path = '/hooks/unify', port = 0 } = {}): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const received: Received[] = [];
  let queue: number[] = [];
  let then = 204;
  let server: Server | undefined;
  let boundPort = port;

  const handle = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let verified: Received['verified'];
      let verifyError: string | undefined;
      try {
        verified = verifier.verify(body, headers) as Received['verified'];
      } catch (error) {
        verifyError = (error as Error).message;
      }
      const status = verified && req.url === path ? (queue.shift() ?? then) : 400;
      received.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, status, verified, verifyError, traceparent: req.headers.traceparent as string | undefined, at: Date.now() });
      // A redirect points back here: a sender that followed it would show up as a second request.
      res.writeHead(status, { 'content-type': 'text/plain', ...(status >= 300 && status < 400 && { location: path }) });
      res.end(status < 300 ? 'ok' : 'no');
    });
  };

  const up = async () => {
    server = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(boundPort, '127.0.0.1', () => resolve());
    });
    boundPort = (server.address() as AddressInfo).port;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  };
  await up();
  return {
    url: `http://127.0.0.1:${boundPort}${path}`,
    received,
    accepted: () => received.filter((r) => r.verified && r.status < 300),
    script(statuses, next = 204) {
      queue = [...statuses];
      then = next;
    },
    down,
    up,
    close: down,
  };
}
