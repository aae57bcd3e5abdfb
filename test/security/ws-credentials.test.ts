import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { started } from '../support/flows.js';

/**
 * graphql-ws reads the caller's credential once, the same way for admission and for every
 * operation's context: connectionParams.authorization, else the upgrade request's Authorization
 * header. A wrong key from either is refused at connect with 4403 (README, Callers), and such
 * attempts leave nothing behind that a shutdown would wait for.
 */

interface Socket {
  messages: Array<{ type: string; id?: string; payload?: any }>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  until(type: string, timeoutMs?: number): Promise<boolean>;
  socket: WebSocket;
}

async function connect(graphqlUrl: string, headers: Record<string, string>, connectionParams: Record<string, unknown> = {}): Promise<Socket> {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
  const messages: Socket['messages'] = [];
  let closedAt = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => ((closedAt = true), resolve({ code, reason: reason.toString() }))),
  );
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const until = async (type: string, timeoutMs = 2_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!messages.some((m) => m.type === type) && !closedAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return messages.some((m) => m.type === type);
  };
  const send = (message: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  send({ type: 'connection_init', payload: connectionParams });
  return { messages, closed, send, until, socket };
}

const FLOW = `query($id: ID!) { flow(id: $id) { id correlationId } }`;

describe('graphql-ws: the credential of the upgrade request', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await gw?.close();
    gw = undefined;
  });

  it('a wrong key in the upgrade Authorization header (empty connectionParams) is refused at connect with 4403', async () => {
    gw = await startGateway();
    const consoleError = vi.spyOn(console, 'error');
    const ws = await connect(gw.graphqlUrl, { authorization: 'Bearer wrong-key-0123456789abcdef' });
    // Were it acknowledged, the operation would fail in the context factory.
    if (await ws.until('connection_ack', 1_000)) ws.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    const closed = await ws.closed;
    expect(ws.messages.map((m) => m.type)).not.toContain('connection_ack');
    expect(closed.code).toBe(4403);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('a wrong key in connectionParams is refused whatever the header says; a right key in the header makes the socket trusted', async () => {
    gw = await startGateway();
    const refused = await connect(gw.graphqlUrl, { authorization: `Bearer ${TEST_API_KEY}` }, { authorization: 'Bearer wrong-key-0123456789abcdef' });
    expect((await refused.closed).code).toBe(4403);

    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const ws = await connect(gw.graphqlUrl, { authorization: `Bearer ${TEST_API_KEY}` });
    expect(await ws.until('connection_ack')).toBe(true);
    ws.send({ id: '1', type: 'subscribe', payload: { query: FLOW, variables: { id: flow.id } } });
    expect(await ws.until('next')).toBe(true);
    // correlationId is for trusted callers only: the header's key reached the context.
    expect(ws.messages.find((m) => m.type === 'next')?.payload.data.flow.correlationId).toEqual(expect.any(String));
    ws.socket.close();
  });

  it('after refused sockets, a shutdown drains at once and cleanly', async () => {
    gw = await startGateway();
    for (let i = 0; i < 3; i++) {
      const ws = await connect(gw.graphqlUrl, { authorization: 'Bearer wrong-key-0123456789abcdef' });
      if (await ws.until('connection_ack', 1_000)) {
        ws.send({ id: String(i), type: 'subscribe', payload: { query: '{ __typename }' } });
        ws.send({ id: `m${i}`, type: 'subscribe', payload: { query: 'mutation { startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014" }) { __typename } }' } });
      }
      await ws.closed;
    }
    // A refused socket holding the drain would run into the 10 s budget and be cut; the bound
    // leaves a busy machine room while staying far below that.
    const report = await gw.shutdown(10_000);
    expect(report).toMatchObject({ drained: true, cut: 0 });
    expect(report.ms).toBeLessThan(5_000);
    gw = undefined;
  });
});
