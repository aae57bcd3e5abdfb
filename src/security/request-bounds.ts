import { GraphQLError } from 'graphql';

/**
 * Bounds on the JSON a client hands us beside a document: `variables`, `extensions` and
 * graphql-ws `connectionParams`. Any code that walks such a value (freezing, coercing, copying,
 * logging) recurses once per level, and a 64 KiB body holds an array nested 30,000 deep: one walk
 * without a bound is a stack overflow that stops the process. So the value is measured here first,
 * by a loop with its own stack (this check cannot overflow), and refused when it is deeper or
 * larger than any real operation needs (startUnify's input is two levels and a dozen values).
 */
export const JSON_BOUNDS = {
  /** Levels of objects and arrays, the outermost counting as one. */
  depth: 16,
  /** Values in all (objects, arrays and leaves). */
  values: 2_000,
} as const;

export interface JsonBounds {
  depth: number;
  values: number;
}

/** Why `value` is out of bounds (a sentence for the client), or undefined when it is within them. */
export function jsonBoundsProblem(value: unknown, bounds: JsonBounds = JSON_BOUNDS): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  let values = 1;
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (depth > bounds.depth) return `is nested more than ${bounds.depth} levels deep`;
    for (const key in node) {
      if (++values > bounds.values) return `holds more than ${bounds.values} values`;
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The operation parameters a client sends (HTTP body or query string, SSE, graphql-ws subscribe). */
export interface OperationParams {
  variables?: unknown;
  extensions?: unknown;
}

/** A GraphQLError that yoga answers 400 and graphql-ws sends as the operation's error. */
export const badRequest = (message: string, code = 'BAD_REQUEST') =>
  new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/** The refusal for parameters out of bounds, or undefined when they may be used. */
export function paramsBoundsError(params: OperationParams | undefined): GraphQLError | undefined {
  if (!params) return undefined;
  for (const field of ['variables', 'extensions'] as const) {
    const problem = jsonBoundsProblem(params[field]);
    if (problem) return badRequest(`The request's "${field}" ${problem}`);
  }
  return undefined;
}

/** The refusal for graphql-ws connectionParams out of bounds (they are kept as long as the socket is open). */
export function connectionParamsProblem(connectionParams: unknown): string | undefined {
  const problem = jsonBoundsProblem(connectionParams);
  return problem && `connectionParams ${problem}`;
}
