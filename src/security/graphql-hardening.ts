import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';

/**
 * Limits on what one GraphQL document may ask for, as envelop plugins (parse and validate hooks),
 * so they run for HTTP requests and for graphql-ws operations alike: ws.ts parses and validates
 * through yoga's envelope.
 *
 * The numbers leave room above the real operations (test/documents/flow.graphql with its
 * fragments: depth 11 when fragments count as levels, cost ~3,300, under 300 tokens) and GraphiQL's
 * introspection query (under 300 tokens; depth and cost stop at `__schema`), and stay far below
 * what hurts: a document at the limits validates in about a millisecond.
 */
export const QUERY_LIMITS = {
  /** Selection depth, fragments counted as levels (flow.graphql's deepest path is 11). */
  depth: 14,
  /** graphql-armor's cost: objects 2, scalars 1, each level x1.5 (flow.graphql's dearest is ~3,300). */
  cost: 6_000,
  /** Aliased fields per document (__typename is free). */
  aliases: 10,
  /** Lexical tokens per document: bounds parser work before anything else runs. */
  tokens: 1_000,
  /** Directives per document. */
  directives: 10,
} as const;

export interface HardeningOptions {
  production: boolean;
}

// graphql-js appends hints like ` Did you mean "phoneNumber"?` or ` Did you mean the enum value "MOBILE"?`.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export const withoutSuggestion = (error: GraphQLError): GraphQLError => {
  if (!error.message.includes('Did you mean') || !SUGGESTION.test(error.message)) return error;
  SUGGESTION.lastIndex = 0;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
};

/**
 * Field and enum suggestions are a map of the schema for whoever has introspection turned off.
 * graphql-armor strips them from validation errors, and so does this hook; variable coercion
 * errors ("Value "MOBIL" does not exist in "PossessionType" enum. Did you mean ...") come from
 * execution, and are stripped where every execution error already passes: the gateway's
 * maskError (createMaskError in src/graphql/yoga.ts), so no hook of ours wraps a result or a
 * subscription's stream for them.
 */
export const useHideSuggestions = (): Plugin => ({
  onValidate: () => ({ result, setResult }) => {
    if (result.some((e) => e.message.includes('Did you mean'))) {
      setResult(result.map((e) => (e instanceof GraphQLError ? withoutSuggestion(e) : e)) as GraphQLError[]);
    }
  },
});

/**
 * Introspection off: graphql-js's own rule, added on every validation. (yoga's
 * useDisableIntrospection decides per HTTP request in onRequestParse, a hook graphql-ws
 * operations never pass through, so on WebSocket it would let introspection through.)
 */
export const useNoIntrospection = (): Plugin => ({
  onValidate: ({ addValidationRule }) => {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
});

/**
 * A refused document becomes an ordinary validation error (yoga answers 400 with it, graphql-ws
 * an error message) rather than an exception thrown out of validate(), which yoga answers 200.
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export function hardeningPlugins({ production }: HardeningOptions): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: QUERY_LIMITS.depth, ignoreIntrospection: true, ...asValidationError },
    costLimit: { maxCost: QUERY_LIMITS.cost, ignoreIntrospection: true, ...asValidationError },
    maxAliases: { n: QUERY_LIMITS.aliases, ...asValidationError },
    maxTokens: { n: QUERY_LIMITS.tokens },
    maxDirectives: { n: QUERY_LIMITS.directives, ...asValidationError },
    blockFieldSuggestion: { enabled: production },
  }) as Plugin;
  return production ? [armor, useNoIntrospection(), useHideSuggestions()] : [armor];
}
