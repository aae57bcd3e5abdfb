import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProveEmulator } from '../emulator/index.js';
import type { HttpDrain } from '../resilience/http-drain.js';
import type { Readiness } from '../resilience/readiness.js';
import { readBodyWithin } from '../security/body-limit.js';
import type { GatewayYoga } from '../graphql/yoga.js';
import type { HttpJsonTransport } from '../transport/http-json.js';
import type { StatusPage } from '../ui/status-page.js';
import { handleGraphiQLAsset } from '../ui/graphiql-assets.js';
import type { Log } from '../lib/log.js';

/** Where the embedded emulator is mounted on the gateway's own port. */
export const EMULATOR_PREFIX = '/prove-emulator';

export interface Routes {
  /** Every request is tracked, so a shutdown can wait for the ones in flight. */
  drain: HttpDrain;
  emulator: ProveEmulator | undefined;
  /** Undefined until the Prove client exists (after listen): /ready then says "starting". */
  readiness: () => Readiness | undefined;
  statusPage: StatusPage | undefined;
  yoga: GatewayYoga;
  /** Plain JSON POSTs without yoga's HTTP layer (src/transport/http-json.ts); undefined: everything through yoga. */
  httpJson: HttpJsonTransport | undefined;
  /** Counts SSE and multipart streams against the live limits (src/transport/sse-live.ts); false: it answered 429. */
  liveStreams?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** GraphiQL's script, styles and workers under /graphiql-assets/ (outside production). */
  graphiql: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/**
 * The gateway's node:http request handler: the emulator mount, /health, /ready, the status page,
 * plain JSON POSTs to /graphql through the thin JSON transport, and everything else (GraphQL,
 * /metrics, GraphiQL) through yoga. `log` is the request's (its lines carry its request id); the
 * GraphQL transports hand it to the operation's context.
 */
export function createRoutes(routes: Routes) {
  const { drain, emulator, statusPage, yoga, httpJson } = routes;
  return (req: IncomingMessage, res: ServerResponse, log: Log): void => {
    drain.track(req, res);
    const url = req.url ?? '/';
    // The embedded emulator is this gateway's own upstream: its calls in flight must finish during a drain.
    if (emulator && (url === EMULATOR_PREFIX || url.startsWith(`${EMULATOR_PREFIX}/`))) {
      req.url = url.slice(EMULATOR_PREFIX.length) || '/';
      return emulator.handle(req, res);
    }
    if (url === '/health') return json(res, 200, { status: 'ok', draining: drain.draining });
    if (url === '/ready') {
      const readiness = routes.readiness();
      if (!readiness) return json(res, 503, { status: 'not ready', problems: ['starting'] });
      return void readiness
        .check()
        .then((report) => json(res, report.ready ? 200 : 503, report.body))
        .catch((error: Error) => json(res, 503, { status: 'not ready', problems: [error.message] }));
    }
    if (drain.draining && !url.startsWith('/metrics')) return drain.refuse(res);
    if (statusPage?.handle(req, res)) return;
    if (routes.graphiql && handleGraphiQLAsset(req, res)) return;
    if (routes.liveStreams && !routes.liveStreams(req, res)) return;
    // Bodies are capped before yoga reads them (413, not a 500 or an unbounded buffer).
    void readBodyWithin(req, res).then((ok) => {
      if (ok && !httpJson?.serve(req, res, log)) void yoga.handle(req, res, { req, log });
    });
  };
}
