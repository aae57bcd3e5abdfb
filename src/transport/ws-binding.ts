import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { CloseCode, DEPRECATED_GRAPHQL_WS_PROTOCOL, handleProtocols, makeServer, type ConnectionInitMessage, type ServerOptions } from 'graphql-ws';
import type { RequestIdentity } from '../security/address.js';
import type { Logger } from 'pino';
import { jsonBoundsProblem } from '../security/request-bounds.js';

/**
 * graphql-ws's protocol server (makeServer) on a `ws` WebSocketServer: what graphql-ws/use/ws
 * does, with the same close codes, reasons and logging, but without a timer, an async frame or
 * half a dozen closures per socket. Those are held for as long as a socket is open, and an open
 * socket per subscription is what a status page costs: 10,000 of them held 10,000 keep-alive
 * intervals and as many suspended message handlers.
 *
 * - Keep-alive: one interval for the whole server pings every open socket; a socket that has not
 *   answered the previous ping by the next tick is terminated (use/ws pings each socket on its own
 *   timer and terminates it when no pong came within the same interval: the same bound).
 * - Messages, pongs, errors and close reach one shared listener each, which finds the socket's
 *   state on the socket itself.
 * - What goes wrong goes to the gateway's log (pino, with its redaction), never to the console:
 *   a client sending a message over the 64 KiB cap is a warning (its socket closes 1009), not an
 *   error with a stack trace on stderr.
 */

/** graphql-ws's `ctx.extra`: the socket, and the upgrade request (ws.ts keeps only its identity once admitted). */
export interface Extra {
  readonly socket: WebSocket;
  request: RequestIdentity;
}

/** Where the binding reports: the gateway's logger. */
export type WsLog = Pick<Logger, 'warn' | 'error'>;

const described = (error: unknown) => ({ name: (error as Error | undefined)?.name, message: (error as Error | undefined)?.message });

const CONNECTION = Symbol('graphql-ws connection');

type Tagged = WebSocket & { [CONNECTION]?: Connection };

/** The socket as makeServer sees it (protocol, send, close, onMessage), and its keep-alive state. */
class Connection {
  #onMessage: ((data: string) => Promise<void>) | undefined;
  /** Whether the socket answered the last ping. */
  alive = true;
  closed: ((code?: number, reason?: string) => Promise<void>) | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly isProd: boolean,
    readonly log: WsLog,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handler: (data: string) => Promise<void>): void {
    this.#onMessage = handler;
  }

  message(data: string): void {
    const problem = protocolProblem(data);
    if (problem) {
      this.log.warn({ problem }, 'graphql-ws: client broke the protocol; socket closed (4400)');
      this.socket.close(CloseCode.BadRequest, problem);
      return;
    }
    // A subscribe message's handler runs for as long as the subscription: a catch, not an await.
    this.#onMessage?.(data).catch((error: unknown) => {
      this.log.error({ err: described(error) }, 'graphql-ws: a message could not be handled; closing the socket (4500)');
      this.internalError(error);
    });
  }

  internalError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.socket.close(CloseCode.InternalServerError, this.isProd || message.length >= 124 ? 'Internal server error' : message);
  }
}

/** Types only a server sends. graphql-ws's server throws on them (closing 4500, an error of ours); the protocol says 4400. */
const SERVER_ONLY = new Set(['next', 'error', 'connection_ack']);

/**
 * Why a message breaks the protocol in a way graphql-ws would take for its own fault, or
 * undefined: a type only a server may send, or a ping whose payload graphql-ws would echo in its
 * pong by a recursive JSON.stringify (a payload nested thousands deep overflows the stack).
 * Only a message that names one of those types anywhere is parsed here (graphql-ws parses every
 * message again), so the messages clients do send (subscribe, complete, pong) are not parsed twice.
 */
function protocolProblem(data: string): string | undefined {
  if (!/"(?:next|error|connection_ack|ping)"/.test(data)) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, payload } = message as { type?: unknown; payload?: unknown };
  if (typeof type === 'string' && SERVER_ONLY.has(type)) return `Unexpected message of type ${type} received`;
  if (type === 'ping') {
    const problem = jsonBoundsProblem(payload);
    if (problem) return `ping payload ${problem}`;
  }
  return undefined;
}

function onSocketMessage(this: Tagged, data: RawData): void {
  this[CONNECTION]?.message(String(data));
}

function onSocketPong(this: Tagged): void {
  const connection = this[CONNECTION];
  if (connection) connection.alive = true;
}

function onSocketError(this: Tagged, error: Error & { code?: string }): void {
  const connection = this[CONNECTION];
  // ws reports a client's protocol violations (a message over maxPayload: 1009, bad frames: 1002)
  // as socket errors and closes the socket with the right code itself.
  if (error instanceof RangeError) connection?.log.warn({ err: described(error), code: error.code }, 'graphql-ws: client broke the WebSocket protocol; socket closed');
  else connection?.log.error({ err: described(error) }, 'graphql-ws: socket error');
  connection?.internalError(error);
}

export interface GraphqlWsBinding {
  dispose(): Promise<void>;
}

/** What else follows each socket's life (the live limits, ws-live.ts), through the binding's own listeners. */
export interface SocketHooks {
  /** Sees every new socket first: false means it has closed the socket itself, which then never speaks graphql-ws. */
  admit(socket: WebSocket, request: IncomingMessage): boolean;
  /**
   * An admitted socket closed. Called from the binding's 'close' listener rather than a listener
   * of its own: past two listeners, every open socket's list of them grows into an array with
   * room for many more.
   */
  closed(socket: WebSocket): void;
}

/**
 * Serves graphql-ws on `wss` (graphql-ws/use/ws's useServer, leaner per socket); keepAliveMs 0 turns pings off.
 * `hooks`, when given, see every socket open and close (SocketHooks).
 */
export function bindGraphqlWs(
  options: ServerOptions<ConnectionInitMessage['payload'], Extra> & { isProd?: boolean },
  wss: WebSocketServer,
  keepAliveMs: number,
  log: WsLog,
  hooks?: SocketHooks,
): GraphqlWsBinding {
  const isProd = typeof options.isProd === 'boolean' ? options.isProd : process.env.NODE_ENV === 'production';
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;

  wss.once('error', (error: Error) => {
    log.error({ err: described(error) }, 'graphql-ws: WebSocket server error; closing every socket');
    for (const client of wss.clients) {
      (client as Tagged)[CONNECTION]?.internalError(error);
    }
  });

  const heartbeat =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const socket of wss.clients as Set<Tagged>) {
            const connection = socket[CONNECTION];
            if (!connection || socket.readyState !== socket.OPEN) continue;
            if (!connection.alive) {
              socket.terminate();
              continue;
            }
            connection.alive = false;
            socket.ping();
          }
        }, keepAliveMs)
      : undefined;
  // The sockets keep the process alive, not their keep-alive.
  heartbeat?.unref();

  wss.on('connection', (socket: Tagged, request: IncomingMessage) => {
    // A socket refused here (over a connection limit) was closed by the hook and never speaks graphql-ws.
    if (hooks && !hooks.admit(socket, request)) return;
    const connection = new Connection(socket, isProd, log);
    socket[CONNECTION] = connection;
    // `on`, not `once`: once() wraps each listener in a bound function and a state object per
    // socket; a socket emits 'close' once, and a second 'error' closes a closing socket again.
    socket.on('error', onSocketError);
    socket.on('pong', onSocketPong);
    socket.on('message', onSocketMessage);
    connection.closed = server.opened(connection, { socket, request });
    socket.on('close', onSocketClose);
  });

  function onSocketClose(this: Tagged, code: number, reason: Buffer): void {
    hooks?.closed(this);
    const connection = this[CONNECTION];
    if (!connection?.closed) return;
    if (code === CloseCode.SubprotocolNotAcceptable && this.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
      log.warn('graphql-ws: a client spoke subscriptions-transport-ws ("graphql-ws" subprotocol), which is not served; use graphql-transport-ws');
    }
    connection.closed(code, String(reason)).catch((error: unknown) => log.error({ err: described(error) }, 'graphql-ws: closing a socket failed'));
  }

  return {
    async dispose() {
      clearInterval(heartbeat);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
