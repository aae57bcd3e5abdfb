import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { GraphQLError } from 'graphql';
import { refusalText, type LiveGuard, type Release } from '../security/live-limits.js';

/** The close code of a graphql-ws socket refused by a connection limit (HTTP's 429, in graphql-ws' 4xxx range). */
export const TOO_MANY_CONNECTIONS_CLOSE_CODE = 4429;

interface SocketHolds {
  address: string;
  closed: boolean;
  /** The socket's running subscriptions by operation id. */
  subscriptions: Map<string, Release>;
}

/**
 * The live limits on graphql-ws sockets: a connection slot per socket from its open to its close,
 * and a subscription slot per running subscription, given back when graphql-ws completes it
 * (client or server side) and, whatever happened before, when the socket closes.
 */
export function wsLiveHolds(guard: LiveGuard) {
  const held = new WeakMap<WebSocket, SocketHolds>();
  return {
    /** False: the socket was over a connection limit and is closed with 4429. */
    admit(socket: WebSocket, request: IncomingMessage): boolean {
      const address = guard.addressOf(request);
      const taken = guard.limits.connection(address);
      if (typeof taken === 'string') {
        guard.onRefused(taken, address);
        socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'Too many connections');
        return false;
      }
      const holds: SocketHolds = { address, closed: false, subscriptions: new Map() };
      held.set(socket, holds);
      socket.once('close', () => {
        holds.closed = true;
        taken();
        for (const release of holds.subscriptions.values()) release();
        holds.subscriptions.clear();
      });
      return true;
    },
    /** Takes a slot for subscription `id`; a GraphQL error (TOO_MANY_SUBSCRIPTIONS) for the operation when a limit refuses it. */
    subscribe(socket: WebSocket, id: string): GraphQLError | undefined {
      const holds = held.get(socket);
      if (!holds || holds.subscriptions.has(id)) return undefined;
      if (holds.closed) return new GraphQLError('The connection is closed', { extensions: { code: 'BAD_REQUEST' } });
      const taken = guard.limits.subscription(holds.address, holds.subscriptions.size);
      if (typeof taken === 'string') {
        guard.onRefused(taken, holds.address);
        const { message, code } = refusalText(taken, guard.limits.config);
        return new GraphQLError(message, { extensions: { code, limit: taken } });
      }
      holds.subscriptions.set(id, taken);
      return undefined;
    },
    release(socket: WebSocket, id: string): void {
      const holds = held.get(socket);
      holds?.subscriptions.get(id)?.();
      holds?.subscriptions.delete(id);
    },
  };
}
