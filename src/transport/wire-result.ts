import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';

/**
 * What yoga's serialiser leaves out of a result before it goes on the wire, for transports that
 * serialise on their own (graphql-ws): the `http` extension (a status and headers for HTTP
 * transports) of each error and of the result. The errors stay the plugins' errors otherwise.
 */
export function formatted(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const json = error.toJSON();
    if (!json.extensions || !('http' in json.extensions)) return json;
    const { http: _http, ...extensions } = json.extensions;
    const { extensions: _all, ...rest } = json;
    return Object.keys(extensions).length ? { ...rest, extensions } : rest;
  });
}

/** The result as it goes on the wire, or undefined when it has nothing to leave out. */
export function wireResult(result: ExecutionResult): ExecutionResult | undefined {
  if (!result.errors?.length && !result.extensions?.http) return undefined;
  const { http: _http, ...extensions } = result.extensions ?? {};
  return {
    ...result,
    ...(result.errors && { errors: formatted(result.errors) as unknown as GraphQLError[] }),
    ...(result.extensions && { extensions: Object.keys(extensions).length ? extensions : undefined }),
  };
}
