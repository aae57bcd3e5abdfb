import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { createKnownDocuments } from '../../src/fastpath/known-documents.js';
import { createMaskError } from '../../src/graphql/yoga.js';
import { contextFor, type ServerContext } from '../../src/graphql/context.js';
import { schema, type GraphQLContext } from '../../src/schema/index.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { readBodyWithin } from '../../src/security/body-limit.js';
import { ApiKeys } from '../../src/security/caller.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { FlowRepository } from '../../src/store/flow-repository.js';
import { processLocks } from '../../src/store/locks.js';
import { createFlowEvents } from '../../src/events/flow-events.js';
import { FlowService } from '../../src/flows/service.js';
import { createProveClient } from '../../src/prove/index.js';
import type { Flow } from '../../src/flows/flow.js';
import { FlowDocument } from '../generated/graphql.js';
import { captureLogs } from '../security/support.js';

/**
 * The known-documents fast path masks errors with the function it is given (the gateway's own,
 * src/graphql/yoga.ts createMaskError), not with yoga's private options: here the yoga in front of it has
 * masking off, so nothing of yoga's could be borrowed. An unexpected error in a resolver is still
 * answered masked, logged through pino, and the process keeps running.
 */

const ID = 'AAAAAAAAAAAAAAAAAAAAAAAA';
const now = Date.now();
const flow: Flow = {
  id: ID,
  correlationId: 'c0ffee00-0000-4000-8000-000000000000',
  authToken: 'token',
  possessionType: 'MOBILE',
  phoneNumber: '+12001004014',
  state: 'PENDING',
  evaluation: [],
  rebind: false,
  clientRequestId: 'request-1',
  createdAt: now,
  updatedAt: now,
  expiresAt: now + 600_000,
  version: 1,
};

let server: Server;
let url: string;
let store: Store;
let served = 0;
const logs = captureLogs('error');
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  store = createStore(undefined);
  const repo = new FlowRepository(store.keyv);
  // A record the resolvers cannot read (evaluation is no list): failureReasons throws a TypeError.
  await repo.save({ ...flow, evaluation: 'corrupt' as unknown as Flow['evaluation'] });
  const flows = new FlowService({
    prove: createProveClient({ serverURL: 'http://127.0.0.1:9', clientId: 'unused', clientSecret: 'unused' }),
    repo,
    events: createFlowEvents(),
    locks: processLocks(),
    phonePolicy: { sandbox: true, allowedCountries: [] },
    flowTtlMs: 600_000,
    logger: logs.logger,
  });
  const context = contextFor({ apiKeys: new ApiKeys([]), addressOf: (req) => req.socket.remoteAddress ?? 'unknown', flows: async () => flows });
  const known = createKnownDocuments({
    yoga: () => yoga,
    context,
    metrics: createMetrics(),
    production: true,
    maskError: createMaskError(logs.logger),
    logger: logs.logger,
    onServed: () => served++,
  });
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    maskedErrors: false,
    logging: false,
    plugins: [known.plugin],
    context: async (initial) => (await context(initial))!,
  });
  server = createServer((req, res) => {
    void readBodyWithin(req, res).then((ok) => {
      if (ok && !known.serve(req, res)) void yoga.handle(req, res, { req });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await new Promise((resolve) => server?.close(resolve));
  await store?.close();
});

const post = async (body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> } };
};

describe('known documents: masking without yoga\'s options', () => {
  it("an unexpected resolver error on the fast path is answered masked and logged, whatever yoga's own masking", async () => {
    const body = { query: print(FlowDocument), variables: { id: ID } };
    // First through yoga (which learns the document; its masking is off here).
    const viaYoga = await post(body);
    expect(viaYoga.body.errors?.length).toBeGreaterThan(0);
    const before = served;
    const viaFast = await post(body);
    expect(served).toBe(before + 1);
    expect(viaFast.status).toBe(200);
    expect(viaFast.body.errors?.map((e) => e.message)).toContain('Unexpected error.');
    expect(JSON.stringify(viaFast.body)).not.toContain('flatMap');
    expect(logs.lines.some((line) => line.includes('unexpected error') && line.includes('flatMap'))).toBe(true);
    // Give a rejected promise a turn to surface.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  });
});
