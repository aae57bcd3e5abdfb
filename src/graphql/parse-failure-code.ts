import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A document that does not parse carries `extensions.code: "GRAPHQL_PARSE_FAILED"` on every
 * transport. yoga adds the code to HTTP requests only (beside their 400), so graphql-ws clients
 * got the bare syntax error; now they read the same code as HTTP clients.
 */
export function useParseFailureCode(): Plugin {
  return {
    onParse: () => ({ result }) => {
      if (!(result instanceof GraphQLError)) return;
      const extensions = ((result as { extensions: Record<string, unknown> }).extensions ||= {});
      extensions.code ||= 'GRAPHQL_PARSE_FAILED';
    },
  };
}
