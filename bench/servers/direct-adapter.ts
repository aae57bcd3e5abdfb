import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProveClient } from '../../src/prove/index.js';
import { args, serve } from './child.js';

/**
 * Reference for the gateway's CPU per flow: a plain node:http handler calling the Prove adapter
 * (src/prove's client) directly, with no GraphQL, store, limits or budget between them: what a
 * backend would spend on the same two Prove calls.
 *   POST /start  { phoneNumber, clientRequestId }   -> unify       -> { correlationId, authToken }
 *   POST /status { correlationId, clientRequestId } -> unifyStatus -> { success }
 */
const adapter = createProveClient({ serverURL: String(args.emulatorUrl), clientId: 'emulator-client', clientSecret: 'emulator-secret' });

const bodyOf = async (req: IncomingMessage): Promise<Record<string, string>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
};

const server = createServer((req, res) => {
  const answer = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  bodyOf(req)
    .then(async (body) => {
      if (req.url === '/start') {
        const started = await adapter.unify({ possessionType: 'mobile', phoneNumber: body.phoneNumber!, clientRequestId: body.clientRequestId! });
        return answer(200, { correlationId: started.correlationId, authToken: started.authToken });
      }
      if (req.url === '/status') {
        const outcome = await adapter.unifyStatus({ correlationId: body.correlationId!, clientRequestId: body.clientRequestId! });
        return answer(200, { success: outcome.success });
      }
      answer(404, { error: 'not found' });
    })
    .catch((error: Error) => answer(500, { error: error.message }));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serve({ url: `http://127.0.0.1:${port}` }, {}, () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
});
