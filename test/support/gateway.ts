import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app/gateway.js';

/** A real gateway on an ephemeral port with its embedded emulator, and small clients for both. */

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface TestGateway extends Gateway {
  config: Config;
  /** POST a typed document; `apiKey` makes the caller trusted. */
  gql<T, V>(document: TypedDocumentNode<T, V>, variables: V, options?: { apiKey?: string }): Promise<T>;
  raw<T = unknown>(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: GraphQLResponse<T> }>;
  sim: EmulatorClient;
}

export interface EmulatorClient {
  authenticate(body: { authToken: string; otp?: string; instantLink?: boolean; deviceId?: string; phoneNumber?: string; resend?: boolean }): Promise<{ result: string; deviceId?: string }>;
  stats(): Promise<{ calls: Record<string, number>; tokensIssued: number; rateLimited: number }>;
  resetStats(): Promise<void>;
  fault(fault: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
}

export function emulatorClient(base: string): EmulatorClient {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    authenticate: (body) => call('POST', '/sim/authenticate', body),
    stats: () => call('GET', '/sim/stats'),
    resetStats: () => call('POST', '/sim/stats/reset'),
    fault: (fault) => call('POST', '/sim/faults', fault),
    clearFaults: () => call('DELETE', '/sim/faults'),
  };
}

/** Tests reuse the sandbox numbers many times; send limits are exercised in test/security, which sets its own. */
export const SEND_LIMITS_OFF = {
  START_LIMIT_PER_NUMBER: '10000/1m', START_LIMIT_PER_NUMBER_ALL: '10000/1m', START_LIMIT_PER_NUMBER_TRUSTED: '10000/1m', START_LIMIT_PER_ADDRESS: '10000/1m',
};

export async function startGateway(
  env: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, ...SEND_LIMITS_OFF, ...env });
  const gateway = await createGateway(config, { logger: pino({ level: 'silent' }), ...options });
  const raw = async <T>(body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
  };
  return {
    ...gateway,
    config,
    raw,
    async gql(document, variables, { apiKey } = {}) {
      const { status, body } = await raw<never>(
        { query: print(document), variables },
        apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      );
      if (status !== 200 || body.errors?.length || !body.data) {
        throw new Error(`GraphQL request failed (${status}): ${JSON.stringify(body.errors ?? body)}`);
      }
      return body.data;
    },
    sim: emulatorClient(gateway.emulatorUrl!),
  };
}
