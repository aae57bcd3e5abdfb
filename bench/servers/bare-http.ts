import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { args, serve } from './child.js';

/** Reference: a bare node:http server answering every request with the same JSON the gateway gives. */
const body = Buffer.from(String(args.body ?? '{"data":{}}'));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serve({ url: `http://127.0.0.1:${port}` }, {}, () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
});
