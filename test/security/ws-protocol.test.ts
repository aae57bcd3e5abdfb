import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { captureLogs, wsCloseAfter } from './support.js';

/**
 * graphql-transport-ws protocol violations found by the fuzz suite (test/fuzz): a client sending
 * a message only a server may send, and a ping whose payload the server would echo with a
 * recursive stringify. Each is the client's fault: the socket closes 4400 with a reason, the log
 * has a warning, never an error, and the gateway keeps serving.
 */

const logs = captureLogs('info');
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ LOG_LEVEL: 'info' }, { logger: logs.logger });
});
afterAll(async () => {
  await gw?.close();
});

const errorLines = () => logs.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

describe('graphql-ws protocol violations', () => {
  it.each([
    ['next', { id: '1', type: 'next', payload: { data: {} } }],
    ['error', { id: '1', type: 'error', payload: [{ message: 'x' }] }],
    ['connection_ack', { type: 'connection_ack' }],
  ])('a client sending %s is closed 4400, as the protocol says (not 4500)', async (type, message) => {
    const closed = await wsCloseAfter(gw.graphqlUrl, [JSON.stringify(message)]);
    expect(closed).toMatchObject({ code: 4400, reason: `Unexpected message of type ${type} received` });
  });

  it('a ping nested thousands deep is closed 4400; an ordinary ping is answered with its payload', async () => {
    const deep = `{"type":"ping","payload":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    expect(await wsCloseAfter(gw.graphqlUrl, [deep])).toMatchObject({ code: 4400, reason: 'ping payload is nested more than 16 levels deep' });
    const fine = await wsCloseAfter(gw.graphqlUrl, ['{"type":"ping","payload":{"n":1}}']);
    expect(fine.messages).toContain('{"type":"pong","payload":{"n":1}}');
  });

  it('a socket that never sends connection_init is closed 4408 after 3 s; one that does stays open', async () => {
    const opened = Date.now();
    const [silent, initialised] = await Promise.all([
      wsCloseAfter(gw.graphqlUrl, [], { init: false }),
      wsCloseAfter(gw.graphqlUrl, []),
    ]);
    expect(silent).toMatchObject({ code: 4408, reason: 'Connection initialisation timeout', messages: [] });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(2_900);
    expect(initialised).toMatchObject({ code: 0, reason: 'still open', messages: ['{"type":"connection_ack"}'] });
  });

  it('none of it is an error-level log line, and the gateway still answers', async () => {
    expect(errorLines()).toEqual([]);
    expect(logs.lines.filter((line) => line.includes('client broke the protocol')).length).toBeGreaterThanOrEqual(4);
    expect((await gw.raw({ query: '{ __typename }' })).body.data).toEqual({ __typename: 'Query' });
  });
});
