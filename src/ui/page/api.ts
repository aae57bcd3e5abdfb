import { createClient, type Client } from 'graphql-ws/client';
import type { TypedDocumentString } from './generated/graphql.js';
import { setConnection } from './dom.js';
import { config, page, TERMINAL } from './state.js';

/** The gateway as the page talks to it: GraphQL over HTTP (typed documents) and one graphql-ws client. */

let wsClient: Client | undefined;

export async function gql<R, V>(doc: TypedDocumentString<R, V>, variables: V, headers: Record<string, string> = {}): Promise<R> {
  const res = await fetch(config.graphql, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query: doc.toString(), variables }),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: R | null; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(body.errors?.map((e) => e.message).join('; ') || `HTTP ${res.status}`);
  }
  return body.data;
}

export function ws(): Client {
  const url = new URL(config.graphql, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  wsClient ??= createClient({
    url: url.href,
    lazy: true,
    retryAttempts: 5,
    on: {
      connected: () => setConnection('connected (graphql-ws)'),
      // The client closes its socket once no subscription is left, i.e. when the flow is final.
      closed: () => setConnection(page.current && TERMINAL.includes(page.current.flow.state) ? 'closed: the flow is final' : 'closed'),
    },
  });
  return wsClient;
}
