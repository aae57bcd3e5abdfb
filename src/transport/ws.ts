import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import type { OperationResult, OperationRunner, ReadyOperation } from '../graphql/operation.js';
import type { RequestIdentity } from '../security/address.js';
import { bindGraphqlWs, type WsLog } from './ws-binding.js';
import { formatted, wireResult } from './wire-result.js';
import { WsDrain } from './ws-drain.js';
import { connectionParamsProblem } from '../security/request-bounds.js';
import { wsLiveHolds } from './ws-live.js';
import type { LiveGuard } from '../security/live-limits.js';

/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own port and path: graphql-ws's protocol
 * server on our `ws` binding (ws-binding.ts), every operation prepared and run by the one
 * operation runner (src/graphql/operation.ts), so the plugins that guard HTTP (auth, limits,
 * masking, metrics, tracing) act on each operation here too. This file adds what a socket
 * transport needs around that: the upgrade's Origin check, admission, live limits and the drain.
 */
export interface GraphqlWsOptions {
  keepAliveMs?: number;
  /**
   * False refuses the connection (close code 4403) before any operation runs. Given the upgrade
   * request too: a credential may come in its Authorization header.
   */
  admit: (connectionParams: Readonly<Record<string, unknown>> | undefined, req: RequestIdentity) => boolean;
  /** False refuses the upgrade with HTTP 403 before any WebSocket exists (browsers always send Origin). */
  verifyOrigin?: (origin: string | undefined, req: IncomingMessage) => boolean;
  /** Where socket and protocol problems are reported (the gateway's logger). */
  log: WsLog;
  /** Connections and subscriptions per socket, client address and process (src/transport/ws-live.ts); absent: unlimited. */
  live?: LiveGuard;
}

/** The graphql-ws server on a port: its sockets, what runs on them, and its graceful close. */
export interface GraphqlWsServer {
  readonly wss: WebSocketServer;
  running(): number;
  close(code?: number, reason?: string, graceMs?: number): Promise<void>;
}

export function attachGraphqlWs(server: Server, path: string, runner: OperationRunner, options: GraphqlWsOptions): GraphqlWsServer {
  const { verifyOrigin } = options;
  const drain = new WsDrain();
  const wss = new WebSocketServer({
    server,
    path,
    maxPayload: 64 * 1024,
    verifyClient: (info: { origin: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      if (drain.draining) return done(false, 503, 'Server shutting down');
      if (verifyOrigin && !verifyOrigin(info.origin || undefined, info.req)) return done(false, 403, 'Origin not allowed');
      done(true);
    },
  });
  // The operation prepared in onSubscribe, found again by the execution args graphql-ws hands
  // back to execute()/subscribe(). A subscription's stream is ended by graphql-ws calling its
  // return() (client complete, socket close), which every layer down to FlowService.watch's
  // iterator passes on at once: no AbortController per operation.
  const prepared = new WeakMap<object, ReadyOperation>();
  const run = (args: ExecutionArgs): Promise<OperationResult> => {
    const operation = prepared.get(args);
    if (!operation) return Promise.reject(new Error('graphql-ws: an operation ran that was not prepared'));
    prepared.delete(args);
    return operation.run();
  };
  const live = options.live && wsLiveHolds(options.live);
  const disposable = bindGraphqlWs(
    {
      onConnect: (ctx) => {
        // Kept for as long as the socket is open: measured before anything reads them (4400 Bad Request).
        const tooBig = connectionParamsProblem(ctx.connectionParams);
        if (tooBig) {
          ctx.extra.socket.close(CloseCode.BadRequest, tooBig);
          return false;
        }
        if (!options.admit(ctx.connectionParams, ctx.extra.request)) return false;
        // graphql-ws keeps ctx.extra for as long as the socket is open; the operations' context
        // reads only the credential and the client address of the upgrade request.
        ctx.extra.request = upgradeIdentity(ctx.extra.request);
        return true;
      },
      onComplete: (ctx, id) => {
        live?.release(ctx.extra.socket, id);
        drain.finished(ctx, id);
      },
      onError: (ctx, id, _payload, errors) => {
        live?.release(ctx.extra.socket, id);
        drain.finished(ctx, id);
        return formatted(errors);
      },
      onNext: (_ctx, _id, _payload, _args, result) => wireResult(result),
      execute: run,
      subscribe: run,
      onSubscribe: async (ctx, id, payload) => {
        if (drain.draining) return drain.notRun();
        // A refusal (syntax, validation, limits, a caller the context factory rejects) is an error
        // message for this operation, never an exception that closes the socket (4500) and leaves
        // the drain counter waiting for an operation that never ran.
        const operation = await runner.prepare(payload, {
          req: ctx.extra.request,
          connectionParams: ctx.connectionParams,
        });
        if (operation.refused) return [...operation.refused];
        // The drain may have begun while the context was built: this operation is not run either.
        if (drain.draining) return drain.notRun();
        // Queries and mutations count until their result is sent; a subscription is cut at close and resumed elsewhere.
        // Nothing below can throw: graphql-ws calls onComplete or onError for this id, which uncounts it.
        if (operation.type !== 'subscription') drain.started(ctx, id);
        else {
          // Over a limit: an error message for this operation (TOO_MANY_SUBSCRIPTIONS); the socket stays open.
          const refused = live?.subscribe(ctx.extra.socket, id);
          if (refused) return [refused];
        }
        prepared.set(operation.args, operation);
        return operation.args;
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
    options.log,
    live,
  );
  return {
    wss,
    /** Queries and mutations running on these sockets now. */
    running: () => drain.running(),
    /**
     * Stops taking sockets and operations, waits up to `graceMs` for the queries and mutations
     * under way to send their results, then closes every socket with `code` (1001: clients
     * reconnect, to another instance behind the load balancer) and refuses later upgrades with 503.
     */
    async close(code = 1001, reason = 'Server shutting down', graceMs = 0) {
      await drain.begin(graceMs);
      for (const client of wss.clients) client.close(code, reason);
      drain.release();
      await disposable.dispose();
      server.on('upgrade', (_req, socket) => {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
      });
    },
  };
}

/**
 * What the operations' context reads of the upgrade request (src/graphql/context.ts contextFor: the
 * Authorization header, X-Forwarded-For and the socket's address), kept instead of the
 * IncomingMessage itself, whose headers, raw headers and stream state would otherwise stay in
 * memory with every open socket.
 */
function upgradeIdentity(req: RequestIdentity): RequestIdentity {
  const { authorization, 'x-forwarded-for': forwardedFor } = req.headers;
  const headers: IncomingMessage['headers'] = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  return { headers, socket: { remoteAddress: req.socket.remoteAddress } };
}
