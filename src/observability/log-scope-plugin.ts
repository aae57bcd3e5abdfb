import type { Plugin } from 'graphql-yoga';
import { currentLogScope, runInLogScope } from './log-context.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';

/**
 * A request id for operations that arrive without an HTTP request of their own (graphql-ws):
 * `connectionParams["x-request-id"]` when well-formed, otherwise one made per operation, so
 * their log lines carry one too. HTTP requests already run in their request's scope
 * (src/observability/request-id.ts) and are left alone.
 */
export function useOperationLogScope(): Plugin {
  const scopeOf = (contextValue: unknown) =>
    currentLogScope() ? undefined : { requestId: requestIdFrom(idIn((contextValue as { connectionParams?: unknown } | undefined)?.connectionParams)) };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const scope = scopeOf(args.contextValue);
      if (scope) setExecuteFn((execArgs) => runInLogScope(scope, () => executeFn(execArgs)));
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const scope = scopeOf(args.contextValue);
      if (scope) setSubscribeFn((subArgs) => runInLogScope(scope, () => subscribeFn(subArgs)));
    },
  };
}

function idIn(params: unknown): string | undefined {
  const value = params && typeof params === 'object' ? (params as Record<string, unknown>)[REQUEST_ID_HEADER] : undefined;
  return typeof value === 'string' ? value : undefined;
}
