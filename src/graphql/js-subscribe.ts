import { subscribe } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Subscriptions are run by graphql-js's own `subscribe` (the graphql package the schema is built
 * with) instead of yoga's default executor. An open subscription holds its stream's layers for
 * as long as it is open, and tens of thousands are open at once: graphql-js maps the source
 * stream to results in one layer, where the default executor, built for incremental delivery
 * (@defer, @stream) that no subscription here uses, holds several, with its execution state.
 * Events are executed by graphql-js, as every other operation's fallback is (jit-reads.ts).
 * Every plugin still sees the operation and its stream: this only sets the function they wrap,
 * so it goes before any plugin that wraps it.
 */
export function useGraphqlJsSubscribe(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
