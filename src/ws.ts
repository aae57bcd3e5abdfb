import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { GatewayYoga } from './yoga.js';

/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own port and path. Every operation goes
 * through yoga's envelop, so the plugins that guard HTTP (auth, limits, masking) guard this too.
 */
export interface GraphqlWsOptions {
  keepAliveMs?: number;
  /** False refuses the connection (close code 4403) before any operation runs. */
  admit: (connectionParams: Readonly<Record<string, unknown>> | undefined) => boolean;
  /** False refuses the upgrade with HTTP 403 before any WebSocket exists (browsers always send Origin). */
  verifyOrigin?: (origin: string | undefined, req: IncomingMessage) => boolean;
}

export function attachGraphqlWs(server: Server, yoga: GatewayYoga, options: GraphqlWsOptions) {
  const { verifyOrigin } = options;
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: 64 * 1024,
    ...(verifyOrigin && {
      verifyClient: (info: { origin: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) =>
        verifyOrigin(info.origin || undefined, info.req) ? done(true) : done(false, 403, 'Origin not allowed'),
    }),
  });
  type Envelope = ReturnType<GatewayYoga['getEnveloped']>;
  // One AbortController per operation: aborted when the client completes it or the socket
  // closes, so subscriptions end even where a wrapper holds their return() back (see
  // FlowService.watch). Keyed by the execution args graphql-ws hands back to subscribe().
  const operations = new WeakMap<object, AbortController>();
  const disposable = useServer(
    {
      onConnect: (ctx) => options.admit(ctx.connectionParams),
      execute: (args) => (args.rootValue as Envelope).execute(args),
      subscribe: async (args) => {
        const result = await (args.rootValue as Envelope).subscribe(args);
        const controller = operations.get(args);
        return controller && isAsyncIterable(result) ? abortOnReturn(result, controller) : result;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const controller = new AbortController();
        const envelope = yoga.getEnveloped({
          req: ctx.extra.request,
          connectionParams: ctx.connectionParams,
          params: payload,
          request: undefined,
          signal: controller.signal,
        } as never);
        let document;
        try {
          document = envelope.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
        }
        const errors = envelope.validate(envelope.schema, document);
        if (errors.length) return errors;
        const args: ExecutionArgs = {
          schema: envelope.schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue: await envelope.contextFactory(),
          rootValue: envelope,
        };
        operations.set(args, controller);
        return args;
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );
  return {
    wss,
    async close(code = 1001, reason = 'Server shutting down') {
      for (const client of wss.clients) client.close(code, reason);
      await disposable.dispose();
    },
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterableIterator<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * The operation's iterator, with return() and throw() aborting the operation's signal first.
 * graphql-ws calls return() when the client sends complete and when the socket closes, and awaits
 * it; the signal is what lets that return() finish promptly.
 */
function abortOnReturn<T>(source: AsyncIterableIterator<T>, controller: AbortController): AsyncIterableIterator<T> {
  const done = (value?: unknown) => Promise.resolve({ done: true, value } as IteratorResult<T>);
  const iterator: AsyncIterableIterator<T> = {
    next: () => source.next(),
    return: (value?: unknown) => {
      controller.abort();
      return source.return ? source.return(value) : done(value);
    },
    throw: (error?: unknown) => {
      controller.abort();
      return source.throw ? source.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
