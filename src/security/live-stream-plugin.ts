import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RequestIdentity } from './address.js';
import { refusalText, type LiveGuard } from './live-limits.js';

const COUNTED = Symbol('counted as a live stream');

type Counted = { [COUNTED]?: true };

/** Marks a request whose stream the HTTP layer has counted already (src/transport/sse-live.ts: it asked for one by Accept). */
export function markCountedStream(req: object): void {
  (req as Counted)[COUNTED] = true;
}

/**
 * The live limits for subscriptions streamed over HTTP by a request that did not ask for a stream:
 * a POST or GET without Accept, or with `*\/*`, is answered as an event stream when its operation
 * turns out to be a subscription (yoga's rule, which the plain-JSON transport follows), and only
 * the operation says so. It holds a connection and a subscription slot like any SSE stream, from
 * its subscribe to the end of its stream, however that ends; over a limit it is answered 429 with
 * the same GraphQL-shaped error. graphql-ws counts its own operations (src/transport/ws-live.ts).
 */
export function useUnannouncedStreamLimits(guard: LiveGuard): Plugin {
  const { limits } = guard;
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { req?: RequestIdentity & Counted; request?: unknown };
      // HTTP operations carry their request; graphql-ws operations do not.
      if (context.request === undefined || !context.req || context.req[COUNTED]) return undefined;
      const address = guard.addressOf(context.req);
      const refused = limits.stream(address);
      if (refused) {
        guard.onRefused(refused, address);
        const { message, code } = refusalText(refused, limits.config);
        setResultAndStopExecution({ errors: [new GraphQLError(message, { extensions: { code, limit: refused, http: { status: 429 } } })] });
        return undefined;
      }
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        limits.endStream(address);
      };
      return {
        onSubscribeResult: ({ result }) => (Symbol.asyncIterator in result ? { onEnd: release } : release()),
      };
    },
  };
}
