import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started } from '../support/flows.js';
import { eventually } from '../live/support.js';
import { captureLogs } from './support.js';
import { RawSocket, refusals, sse } from './live-support.js';
import { liveRefusalWarning, networkOf } from '../../src/observability/live-refusal-log.js';

/**
 * Connection and subscription floods (issue 12, item 4): one client may hold only so many
 * graphql-ws sockets, subscriptions per socket, subscriptions and SSE streams per address, and
 * the process only so many in all. Clients come from different loopback addresses (127.0.0.x),
 * as different machines would; a refusal is a typed error (graphql-ws), a 4429 close (a socket
 * too many) or a 429 (SSE), it is counted in /metrics, and a slot comes back when what held it
 * ends, however it ends.
 */

const errorOf = (answer: { type: string; payload: unknown }) => {
  expect(answer.type).toBe('error');
  return (answer.payload as { message: string; extensions: { code: string; limit: string } }[])[0]!;
};

describe('per socket, per address', () => {
  const logs = captureLogs('info');
  let gw: TestGateway;
  let flowId: string;
  const sockets: RawSocket[] = [];
  const open = async (address: string) => {
    const s = await RawSocket.open(gw, address);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    gw = await startGateway(
      { LOG_LEVEL: 'info', LIMIT_SUBSCRIPTIONS_PER_SOCKET: '3', LIMIT_SUBSCRIPTIONS_PER_ADDRESS: '5', LIMIT_CONNECTIONS_PER_ADDRESS: '4' },
      { logger: logs.logger },
    );
    flowId = (await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' })).flow.id;
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.terminate();
    await gw?.close();
  });

  it('a fourth subscription on one socket is an error for that operation only; completing one frees its slot', async () => {
    const s = await open('127.0.0.2');
    for (const id of ['a', 'b', 'c']) expect((await s.subscribe(id, flowId)).type).toBe('next');
    const refused = errorOf(await s.subscribe('d', flowId));
    expect(refused.extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'subscriptions_per_socket' });
    expect(refused.message).toBe('Too many subscriptions on this connection (at most 3)');
    await s.settle();
    expect(s.closed).toBeUndefined();

    s.complete('a');
    await eventually(() => gw.liveStats().held.subscriptions === 2, 'the completed subscription released');
    expect((await s.subscribe('e', flowId)).type).toBe('next');
    expect(await refusals(gw)).toEqual({ 'subscriptions_per_socket/graphql-ws': 1 });
  });

  it('per address over graphql-ws and SSE together; another address is unaffected; a socket that dies frees its slots', async () => {
    const first = await open('127.0.0.3');
    const second = await open('127.0.0.3');
    for (const id of ['1', '2', '3']) expect((await first.subscribe(id, flowId)).type).toBe('next');
    expect((await second.subscribe('1', flowId)).type).toBe('next');
    const stream = await sse(gw, '127.0.0.3', flowId);
    expect(stream.status).toBe(200);

    // Five held by 127.0.0.3: a sixth is refused, on a socket with room to spare and over SSE.
    expect(errorOf(await second.subscribe('2', flowId)).extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'subscriptions_per_address' });
    const refused = await sse(gw, '127.0.0.3', flowId);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errors: [{ message: 'Too many subscriptions from this address (at most 5)', extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'subscriptions_per_address' } }],
    });

    // Someone else is served as ever.
    const other = await open('127.0.0.4');
    expect((await other.subscribe('1', flowId)).type).toBe('next');
    const otherStream = await sse(gw, '127.0.0.4', flowId);
    expect(otherStream.status).toBe(200);

    // The first socket dies without a close handshake: its three slots come back.
    const before = gw.liveStats().held.subscriptions;
    first.socket.terminate();
    await eventually(() => gw.liveStats().held.subscriptions === before - 3, 'the dead socket\'s subscriptions released');
    expect((await second.subscribe('3', flowId)).type).toBe('next');
    // An SSE stream that ends gives its slot back too.
    stream.close();
    await eventually(() => gw.liveStats().held.subscriptions === before - 3, 'the closed stream released');
    const again = await sse(gw, '127.0.0.3', flowId);
    expect(again.status).toBe(200);
    again.close();
    otherStream.close();

    expect(await refusals(gw)).toEqual({
      'subscriptions_per_socket/graphql-ws': 1,
      'subscriptions_per_address/graphql-ws': 1,
      'subscriptions_per_address/sse': 1,
    });
  });

  it('a socket beyond the per-address connection limit is closed with 4429; SSE is refused 429; closing one lets the next in', async () => {
    const held = [await open('127.0.0.5'), await open('127.0.0.5'), await open('127.0.0.5'), await open('127.0.0.5')];
    expect(held.map((s) => s.closed)).toEqual([undefined, undefined, undefined, undefined]);
    const fifth = await open('127.0.0.5');
    expect(fifth.closed).toEqual({ code: 4429, reason: 'Too many connections' });
    expect(fifth.messages).toEqual([]);
    const stream = await sse(gw, '127.0.0.5', flowId);
    expect(stream.status).toBe(429);
    expect(stream.body).toMatchObject({ errors: [{ extensions: { code: 'TOO_MANY_CONNECTIONS', limit: 'connections_per_address' } }] });

    expect((await open('127.0.0.6')).closed).toBeUndefined();

    const before = gw.liveStats().held.connections;
    held[0]!.socket.close(1000);
    await eventually(() => gw.liveStats().held.connections === before - 1, 'the closed socket released');
    expect((await open('127.0.0.5')).closed).toBeUndefined();
    expect(await refusals(gw)).toMatchObject({ 'connections_per_address/graphql-ws': 1, 'connections_per_address/sse': 1 });
  });

  it('a subscription streamed to a request that did not ask for a stream (no Accept, */*, GET) counts like SSE', async () => {
    const before = gw.liveStats().held;
    const streams = [
      await sse(gw, '127.0.0.7', flowId, 'plain POST'),
      await sse(gw, '127.0.0.7', flowId, 'POST */*'),
      await sse(gw, '127.0.0.7', flowId, 'GET'),
      await sse(gw, '127.0.0.7', flowId, 'plain POST'),
    ];
    expect(streams.map((s) => [s.status, s.contentType])).toEqual(Array(4).fill([200, 'text/event-stream']));
    expect(gw.liveStats().held).toMatchObject({ connections: before.connections + 4, subscriptions: before.subscriptions + 4 });

    // A fifth from 127.0.0.7, however it is sent, is over its connection limit: 429, as for SSE.
    for (const how of ['plain POST', 'POST */*', 'GET', 'sse'] as const) {
      const refused = await sse(gw, '127.0.0.7', flowId, how);
      expect(refused.status, how).toBe(429);
      expect(refused.body, how).toEqual({
        errors: [{ message: 'Too many connections from this address (at most 4)', extensions: { code: 'TOO_MANY_CONNECTIONS', limit: 'connections_per_address' } }],
      });
    }
    // Queries are not streams: never counted, never refused.
    const query = await fetch(gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(query.status).toBe(200);

    // A stream the client leaves gives its slots back, and the next one is served.
    streams[0]!.close();
    await eventually(() => gw.liveStats().held.connections === before.connections + 3, 'the abandoned stream released');
    expect(gw.liveStats().held.subscriptions).toBe(before.subscriptions + 3);
    const next = await sse(gw, '127.0.0.7', flowId, 'plain POST');
    expect(next.status).toBe(200);
    for (const s of [...streams.slice(1), next]) s.close();
    await eventually(() => gw.liveStats().held.connections === before.connections, 'every stream released');
    expect(gw.liveStats().held.subscriptions).toBe(before.subscriptions);
    expect(await refusals(gw)).toMatchObject({ 'connections_per_address/sse': 5 });
  });

  it('refusals are one warning line per network per minute, without the full address; everything released leaves nothing behind', async () => {
    const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'live connection or subscription refused by its limit');
    // Six refusals so far, all from 127.0.0.0/24: one line.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, network: '127.0.0.0/24', refusal: 'subscriptions_per_socket', transport: 'graphql-ws', refusals: 1 });
    expect(logs.lines.filter((l) => /127\.0\.0\.[2-6]\b/.test(l))).toEqual([]);

    for (const s of sockets.splice(0)) s.socket.terminate();
    await eventually(() => gw.liveStats().held.connections === 0 && gw.liveStats().held.subscriptions === 0, 'every slot released');
    expect(gw.liveStats().held).toEqual({ connections: 0, subscriptions: 0, addresses: 0 });
  });
});

describe('per process', () => {
  let gw: TestGateway;
  let flowId: string;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    gw = await startGateway({ LIMIT_CONNECTIONS_TOTAL: '3', LIMIT_SUBSCRIPTIONS_TOTAL: '3' });
    flowId = (await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' })).flow.id;
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.terminate();
    await gw?.close();
  });

  it('whoever comes once the process is full is refused, and served again once something closes', async () => {
    const a = await RawSocket.open(gw, '127.0.0.7');
    const b = await RawSocket.open(gw, '127.0.0.8');
    sockets.push(a, b);
    expect((await a.subscribe('1', flowId)).type).toBe('next');
    expect((await b.subscribe('1', flowId)).type).toBe('next');
    const stream = await sse(gw, '127.0.0.9', flowId);
    expect(stream.status).toBe(200);

    const c = await RawSocket.open(gw, '127.0.0.10');
    sockets.push(c);
    expect(c.closed).toEqual({ code: 4429, reason: 'Too many connections' });
    expect(errorOf(await a.subscribe('2', flowId))).toMatchObject({
      message: 'Too many subscriptions on this server; try again later (at most 3)',
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'subscriptions_total' },
    });

    stream.close();
    await eventually(() => gw.liveStats().held.subscriptions === 2, 'the stream released');
    expect((await a.subscribe('3', flowId)).type).toBe('next');
    expect(await refusals(gw)).toEqual({ 'connections_total/graphql-ws': 1, 'subscriptions_total/graphql-ws': 1 });
  });
});

describe('the refusal warning', () => {
  it('logs an offender once a minute with the refusals since its last line; networks, not addresses', () => {
    const lines: Record<string, unknown>[] = [];
    let now = 0;
    const warn = liveRefusalWarning({ warn: (fields: Record<string, unknown>) => void lines.push(fields) } as never, () => now);
    warn('subscriptions_per_address', 'sse', '203.0.113.7');
    warn('subscriptions_per_address', 'sse', '203.0.113.8');
    now = 59_000;
    warn('connections_total', 'graphql-ws', '203.0.113.7');
    warn('connections_total', 'graphql-ws', '2001:db8:1:2::7');
    now = 60_000;
    warn('connections_total', 'graphql-ws', '203.0.113.9');
    expect(lines).toEqual([
      { refusal: 'subscriptions_per_address', transport: 'sse', network: '203.0.113.0/24', refusals: 1 },
      { refusal: 'connections_total', transport: 'graphql-ws', network: '2001:db8:1::/48', refusals: 1 },
      { refusal: 'connections_total', transport: 'graphql-ws', network: '203.0.113.0/24', refusals: 3 },
    ]);
    expect(['::ffff:10.1.2.3', '::1', 'fe80::1', '2001:DB8::', 'not an address'].map(networkOf)).toEqual([
      '10.1.2.0/24', '0:0:0::/48', 'fe80:0:0::/48', '2001:db8:0::/48', 'unknown',
    ]);
  });
});
