import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { GraphQLError } from 'graphql';
import { refusalText, type LiveGuard } from '../security/live-limits.js';

/** The close code of a graphql-ws socket refused by a connection limit (HTTP's 429, in graphql-ws' 4xxx range). */
export const TOO_MANY_CONNECTIONS_CLOSE_CODE = 4429;

const HOLDS = Symbol('live limits');

/**
 * What one socket holds, kept on the socket itself: tens of thousands of sockets are open at once,
 * so no map beside them and no closure per socket or per subscription. The operation ids are a
 * string while there is one (a status page's socket), a Set beyond.
 */
interface Holds {
  address: string;
  closed: boolean;
  ids: string | Set<string> | undefined;
}

type Held = WebSocket & { [HOLDS]?: Holds };

const countOf = (ids: Holds['ids']) => (ids === undefined ? 0 : typeof ids === 'string' ? 1 : ids.size);
const hasId = (ids: Holds['ids'], id: string) => (typeof ids === 'string' ? ids === id : ids?.has(id) === true);

/**
 * The live limits on graphql-ws sockets: a connection slot per socket from its open to its close,
 * and a subscription slot per running subscription, given back when graphql-ws completes it
 * (client or server side) and, whatever happened before, when the socket closes.
 */
export function wsLiveHolds(guard: LiveGuard) {
  const { limits } = guard;
  return {
    /** False: the socket was over a connection limit and is closed with 4429. */
    admit(socket: WebSocket, request: IncomingMessage): boolean {
      const address = guard.addressOf(request);
      const refused = limits.connection(address);
      if (refused) {
        guard.onRefused(refused, address);
        socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'Too many connections');
        return false;
      }
      (socket as Held)[HOLDS] = { address, closed: false, ids: undefined };
      return true;
    },
    /** The socket closed (the binding's close listener): its connection slot and every subscription slot it still held are given back. A second call does nothing. */
    closed(socket: WebSocket): void {
      const holds = (socket as Held)[HOLDS];
      if (!holds || holds.closed) return;
      holds.closed = true;
      limits.endConnection(holds.address);
      for (let n = countOf(holds.ids); n > 0; n--) limits.endSubscription(holds.address);
      holds.ids = undefined;
    },
    /** Takes a slot for subscription `id`; a GraphQL error (TOO_MANY_SUBSCRIPTIONS) for the operation when a limit refuses it. */
    subscribe(socket: WebSocket, id: string): GraphQLError | undefined {
      const holds = (socket as Held)[HOLDS];
      if (!holds || hasId(holds.ids, id)) return undefined;
      if (holds.closed) return new GraphQLError('The connection is closed', { extensions: { code: 'BAD_REQUEST' } });
      const refused = limits.subscription(holds.address, countOf(holds.ids));
      if (refused) {
        guard.onRefused(refused, holds.address);
        const { message, code } = refusalText(refused, limits.config);
        return new GraphQLError(message, { extensions: { code, limit: refused } });
      }
      const { ids } = holds;
      if (ids === undefined) holds.ids = id;
      else if (typeof ids === 'string') holds.ids = new Set([ids, id]);
      else ids.add(id);
      return undefined;
    },
    release(socket: WebSocket, id: string): void {
      const holds = (socket as Held)[HOLDS];
      if (!holds || holds.closed || !hasId(holds.ids, id)) return;
      if (typeof holds.ids === 'string') holds.ids = undefined;
      else holds.ids!.delete(id);
      limits.endSubscription(holds.address);
    },
  };
}
