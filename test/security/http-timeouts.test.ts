import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { stateOf, watchSse } from '../live/support.js';

/**
 * The HTTP server's timeouts as a client and a load balancer see them: connections that never
 * finish their headers (slowloris) are closed within HTTP_HEADERS_TIMEOUT, idle keep-alive
 * connections outlive a load balancer's 60 s idle timeout by default (Node's own is 5 s, which
 * gives a load balancer 502s when it reuses a connection the gateway has just closed), and a
 * live SSE stream is never cut by the request timeout.
 */

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const open = (url: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });

/** Resolves when the server has closed the socket (end or reset). */
const closedBy = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.on('error', () => {});
    socket.resume();
  });

/** One HTTP/1.1 request on a kept-alive raw socket: the response head and body as text. */
function exchange(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      const complete = length ? text.length >= head + 4 + Number(length) : text.endsWith('\r\n0\r\n\r\n');
      if (head >= 0 && complete) {
        socket.off('data', onData).off('close', onClose);
        resolve(text);
      }
    };
    const onClose = () => reject(new Error(`connection closed before the response (${JSON.stringify(text)})`));
    socket.on('data', onData).once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: gateway\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('HTTP timeouts', () => {
  it('connections that never finish their headers are closed within HTTP_HEADERS_TIMEOUT; the gateway keeps serving', async () => {
    gw = await startGateway({ HTTP_HEADERS_TIMEOUT: '1000ms' });
    const sockets = await Promise.all(Array.from({ length: 100 }, () => open(gw!.url)));
    const opened = Date.now();
    // Slowloris: a request line and a header that is never finished, one byte at a time.
    for (const socket of sockets) socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nX-Slow: ');
    const drip = setInterval(() => sockets.forEach((s) => s.writable && s.write('a')), 200);
    const closedAt: number[] = [];
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, 6_000));
    try {
      await Promise.race([Promise.all(sockets.map((s) => closedBy(s).then(() => closedAt.push(Date.now() - opened)))), deadline]);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
    // Every one closed by the server, within the timeout plus Node's check interval (a fifth of it) and some slack for a loaded machine.
    expect(closedAt.length).toBe(100);
    expect(Math.max(...closedAt)).toBeLessThan(3_500);
    expect(Math.min(...closedAt)).toBeGreaterThanOrEqual(900);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('by default an idle keep-alive connection is kept beyond a load balancer\'s 60 s idle timeout (announced as 65 s), and reused after 6 s', async () => {
    gw = await startGateway();
    const socket = await open(gw.url);
    try {
      const first = await exchange(socket, '/health');
      expect(first).toMatch(/^HTTP\/1\.1 200/);
      expect(first).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
      // Node's default would have closed it after 5 s.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(socket.destroyed).toBe(false);
      expect(await exchange(socket, '/health')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  });

  it('an idle keep-alive connection is not cut by the headers or request timeout (they bound a request, not the wait for the next)', async () => {
    gw = await startGateway({ HTTP_HEADERS_TIMEOUT: '500ms', HTTP_REQUEST_TIMEOUT: '1s' });
    const socket = await open(gw.url);
    try {
      expect(await exchange(socket, '/health')).toMatch(/^HTTP\/1\.1 200/);
      // Several of Node's checks (every 100 ms here) past both timeouts.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(socket.destroyed).toBe(false);
      expect(await exchange(socket, '/health')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  });

  it('HTTP_KEEP_ALIVE_TIMEOUT is honoured: an idle connection is closed after it', async () => {
    gw = await startGateway({ HTTP_KEEP_ALIVE_TIMEOUT: '1s' });
    const socket = await open(gw.url);
    const first = await exchange(socket, '/health');
    expect(first).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    const idleSince = Date.now();
    await closedBy(socket);
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(900);
    expect(Date.now() - idleSince).toBeLessThan(4_000);
  });

  it('a live SSE stream outlives the request and headers timeouts and still gets its event', async () => {
    gw = await startGateway({ HTTP_HEADERS_TIMEOUT: '300ms', HTTP_REQUEST_TIMEOUT: '500ms' });
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const watch = watchSse(gw.graphqlUrl, flow.id);
    expect(stateOf(await watch.event(0))).toBe('PENDING');
    // Well past both timeouts and several of Node's checks.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await gw.sim.authenticate({ authToken, otp: '1234' });
    await status(gw, flow.id);
    expect(stateOf(await watch.event(1))).toBe('VERIFIED');
    expect((await watch.ended).how).toBe('complete');
  });

  it('bad values are refused at start, one line each', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT: 'forever' })).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT: must be a duration/);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT: '60s', HTTP_REQUEST_TIMEOUT: '30s' })).toThrow(/HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT/);
    expect(() => loadConfig({ HTTP_HEADER_TIMEOUT: '10s' })).toThrow(/HTTP_HEADER_TIMEOUT: is not a setting/);
    expect(loadConfig({}).http).toEqual({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  });
});
