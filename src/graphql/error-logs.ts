import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Log } from '../lib/log.js';

/**
 * Which operation's log an error belongs to, for the masking's 'unexpected error' line
 * (src/graphql/yoga.ts createMaskError), so that the line carries that request's id.
 *
 * yoga's masking hands maskError the error alone, not the operation. This plugin sees each
 * operation's errors (with its context) just before the masking plugin does (yoga places masking
 * after every plugin of ours), and notes the operation's log against each error. Errors no
 * operation saw (the context factory's own) have none: maskError then writes with the process logger.
 */
export interface ErrorLogs {
  /** For yoga's plugin list. */
  plugin: Plugin;
  /** The log of the operation `error` came from, if one was noted. */
  of(error: unknown): Log | undefined;
}

type Done = { args: { contextValue: unknown }; result: ExecutionResult | AsyncIterable<ExecutionResult> };

export function errorLogs(): ErrorLogs {
  const logs = new WeakMap<object, Log>();
  const logIn = (contextValue: unknown): Log | undefined => (contextValue as { log?: Log } | undefined)?.log;

  const note = ({ args, result }: Done): void => {
    if (isAsyncIterable(result) || !result.errors?.length) return;
    const log = logIn(args.contextValue);
    if (log) for (const error of result.errors) logs.set(error, log);
  };
  // The hooks' results are constants (envelop hands each call the operation's args): nothing is
  // made per operation, and a stream's events go through the one layer masking already adds.
  const onEvents = { onNext: note };
  const afterResult = (done: Done) => (isAsyncIterable(done.result) ? onEvents : note(done));
  const afterExecute = { onExecuteDone: afterResult };

  return {
    of: (error) => (typeof error === 'object' && error !== null ? logs.get(error) : undefined),
    plugin: {
      onExecute: () => afterExecute,
      onSubscribe: ({ args }) => ({
        onSubscribeResult: afterResult,
        // An error a stream throws: its handler is not given the operation, so it closes over it.
        onSubscribeError: ({ error }) => {
          const log = logIn(args.contextValue);
          if (log && typeof error === 'object' && error !== null) logs.set(error, log);
        },
      }),
    },
  };
}
