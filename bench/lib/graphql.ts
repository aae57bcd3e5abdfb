import { print } from 'graphql';
import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument } from '../../test/generated/graphql.js';
import { Pool, buildRequest } from './http.js';

/** GraphQL over the bench's keep-alive pools: the test documents, one operation, a started flow, the emulator's call counts. */

export const DOCS = {
  start: print(StartUnifyDocument),
  status: print(UnifyStatusDocument),
  flow: print(FlowDocument),
  bind: print(BindPhoneDocument),
};

interface GraphQLBody<T = Record<string, any>> {
  data?: T;
  errors?: { message: string }[];
}
export type Any = Record<string, any>;

export async function gql(pool: Pool, url: string, query: string, variables: Any, apiKey?: string): Promise<Any> {
  const { status, body } = await pool.json<GraphQLBody>(url, { query, variables }, apiKey ? { authorization: `Bearer ${apiKey}` } : {});
  if (status !== 200 || body.errors?.length || !body.data) throw new Error(`GraphQL ${status}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

export async function startFlow(pool: Pool, url: string, input: Any): Promise<{ id: string; authToken: string }> {
  const result = (await gql(pool, url, DOCS.start, { input })).startUnify;
  if (result.__typename !== 'StartUnifyPayload') throw new Error(`start: ${JSON.stringify(result)}`);
  return { id: result.flow.id, authToken: result.authToken };
}

export async function emulatorStats(pool: Pool, emulatorUrl: string, reset = false): Promise<Any> {
  const res = await pool.request(buildRequest(`${emulatorUrl}/sim/stats${reset ? '/reset' : ''}`, reset ? '{}' : undefined));
  return JSON.parse(res.body) as Any;
}
