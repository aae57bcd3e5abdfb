import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';

/**
 * yoga's CSRF prevention, with a refusal that tells the client what to send: urql and other
 * clients send queries as GET by default, and "Required CSRF header(s) not present" names no header.
 */
export function useNamedCSRFPrevention(requestHeaders: string[]): Plugin {
  const prevention = useCSRFPrevention({ requestHeaders });
  return {
    onRequestParse(payload) {
      try {
        return prevention.onRequestParse?.(payload);
      } catch {
        throw createGraphQLError(
          `Required CSRF header not present: a GET (or a non-JSON body) needs the header ${requestHeaders[0]}: 1 ` +
            `(or ${requestHeaders.slice(1).join(', ')}); or send a POST with Content-Type: application/json`,
          { extensions: { http: { status: 403 } } },
        );
      }
    },
  };
}
