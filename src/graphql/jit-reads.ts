import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Reads that only touch the store (`flow(id)`, `__typename`), the operation status screens and
 * backends poll, execute as graphql-jit compiles them, once per document and operation name.
 * graphql-jit answers a successful read exactly as graphql-js does, but not one with errors (it
 * completes every field before bubbling nulls, so it reports more of them, and its words and
 * locations differ): a read answered with errors is executed again by graphql-js, whose answer
 * is the result. Only side-effect-free root fields take this path, so the second run is
 * harmless; everything else executes as before. Put before plugins that wrap execution (the log
 * scope), so they wrap this too.
 */
const JIT_FIELDS = new Set(['flow', '__typename']);

export function useJitReads(): Plugin {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  const jitFor = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let jit = byName.get(name);
    if (jit === undefined) {
      jit = null;
      const operation = getOperationAST(document, operationName);
      const eligible =
        operation?.operation === 'query' &&
        operation.selectionSet.selections.every((s) => s.kind === 'Field' && !s.directives?.length && JIT_FIELDS.has(s.name.value));
      if (eligible) {
        try {
          const made = compileQuery(schema, document, operationName ?? undefined);
          if (isCompiledQuery(made)) jit = made;
        } catch {
          // Not compiled: graphql-js executes it.
        }
      }
      byName.set(name, jit);
    }
    return jit;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const jit = jitFor(args.schema, args.document, args.operationName);
      if (!jit) return;
      setExecuteFn(async (execArgs) => {
        const result = (await jit.query(execArgs.rootValue, execArgs.contextValue, execArgs.variableValues ?? {})) as ExecutionResult;
        return result.errors?.length ? executeFn(execArgs) : result;
      });
    },
  };
}
