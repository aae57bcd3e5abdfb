import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import WebSocket from 'ws';
import type { TestGateway } from '../support/gateway.js';
import { WatchStatusDocument } from '../generated/graphql.js';

/**
 * Clients for the live-limits suite (live-limits.test.ts), each from a loopback address of its
 * own as different machines would be: a graphql-transport-ws socket spoken by hand, a subscription
 * streamed over HTTP, and the refusals /metrics counts.
 */

export const WATCH = print(WatchStatusDocument);

/** A graphql-transport-ws socket spoken by hand, from `localAddress`. */
export class RawSocket {
  readonly messages: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type === 'ping') return void socket.send('{"type":"pong"}');
      this.messages.push(message);
      this.#wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.#wake();
    });
    socket.on('error', () => {});
  }

  #wake() {
    for (const wake of this.#waiters) wake();
  }

  /** Opens and initialises; resolves once acknowledged or closed. */
  static async open(gw: TestGateway, localAddress: string): Promise<RawSocket> {
    const socket = new WebSocket(gw.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { localAddress });
    const s = new RawSocket(socket);
    await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await s.until(() => s.messages.some((m) => m.type === 'connection_ack'), 'connection_ack or close');
    return s;
  }

  until(probe: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!probe() && !this.closed) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => (this.#waiters.delete(check), reject(new Error(`no ${what}: ${JSON.stringify(this.messages)}`))), 10_000);
      this.#waiters.add(check);
      check();
    });
  }

  /** Subscribes `id` to the flow and waits for its first answer: 'next' or 'error' (with its payload). */
  async subscribe(id: string, flowId: string): Promise<{ type: string; payload: unknown }> {
    const count = this.messages.length;
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: WATCH, variables: { flowId } } }));
    const answer = () => this.messages.slice(count).find((m) => m.id === id && (m.type === 'next' || m.type === 'error'));
    await this.until(() => !!answer(), `answer to ${id}`);
    if (this.closed) throw new Error(`socket closed ${JSON.stringify(this.closed)}`);
    return answer() as { type: string; payload: unknown };
  }

  complete(id: string) {
    this.socket.send(JSON.stringify({ id, type: 'complete' }));
  }

  /** Everything sent before has been handled: graphql-ws answers a ping after it. */
  async settle() {
    const count = this.messages.length;
    this.socket.send('{"type":"ping"}');
    await this.until(() => this.messages.slice(count).some((m) => m.type === 'pong'), 'pong');
  }
}

/**
 * A subscription streamed over HTTP from `localAddress`: the status and, for a 429, the JSON body;
 * close() ends the stream. SSE asks for a stream by Accept; `unannounced` requests do not (no
 * Accept, or `*\/*`: they are streamed because the operation is a subscription).
 */
export function sse(
  gw: TestGateway, localAddress: string, flowId: string,
  how: 'sse' | 'plain POST' | 'POST */*' | 'GET' = 'sse',
): Promise<{ status: number; body: unknown; contentType?: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const url = new URL(gw.graphqlUrl);
    const body = JSON.stringify({ query: WATCH, variables: { flowId } });
    const headers: Record<string, string> =
      how === 'sse' ? { 'content-type': 'application/json', accept: 'text/event-stream' }
        : how === 'plain POST' ? { 'content-type': 'application/json' }
          : how === 'POST */*' ? { 'content-type': 'application/json', accept: '*/*' }
            : { 'x-graphql-yoga-csrf': '1' };
    const path = how === 'GET' ? `${url.pathname}?${new URLSearchParams({ query: WATCH, variables: JSON.stringify({ flowId }) })}` : url.pathname;
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: how === 'GET' ? 'GET' : 'POST', localAddress, headers },
      (res) => {
        const close = () => req.destroy();
        const contentType = res.headers['content-type'];
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          // A stream is "held" once its first event arrived.
          if (res.statusCode === 200 && text.includes('\n\n')) resolve({ status: 200, body: text, contentType, close });
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: res.statusCode === 200 ? text : JSON.parse(text), contentType, close }));
        res.on('error', () => {});
      },
    );
    req.on('error', reject);
    req.end(how === 'GET' ? undefined : body);
  });
}

export async function refusals(gw: TestGateway): Promise<Record<string, number>> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, kind, transport, value] of text.matchAll(/^unify_live_refusals_total\{kind="(\w+)",transport="([\w-]+)"\} (\d+)$/gm)) {
    if (Number(value)) counts[`${kind}/${transport}`] = Number(value);
  }
  return counts;
}
