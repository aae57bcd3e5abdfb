import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { TEST_API_KEY } from '../support/gateway.js';
import { EMULATOR_CLIENT_SECRET, startUpstream, type Upstream } from '../security/support.js';
import { inBatches } from '../live/support.js';
import {
  MANIFEST, START, accept, contentType, extraHeaders, getPath, method, postBody, rawRequest, sseRequest, wsSession, type WsFrame,
} from './arbitraries.js';

/**
 * Generated hostile traffic against the gateway as it is deployed: `src/main.ts` in a process of
 * its own, in production mode, in front of a Prove emulator. Over 2,000 requests from
 * fast-check arbitraries (test/fuzz/arbitraries.ts) over HTTP POST and GET, raw bytes, SSE and
 * graphql-ws. Afterwards the process must still be alive and its memory bounded; no answer may be
 * a 5xx or a masked internal error, or carry a stack trace, an internal path, a correlation id, a
 * token or another user's phone number; and the gateway's log must have no error-level line
 * (nothing a client sends is the gateway's fault). Problems are collected, not stopped at, so
 * one run lists them all.
 *
 * Deterministic: the seed is printed; FUZZ_SEED=<n> replays another run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
/** FUZZ_SCALE=<n> sends n times as many (a longer hunt, or a look at memory over time). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = Object.fromEntries(Object.entries({ post: 800, get: 350, raw: 100, sse: 300, ws: 600 }).map(([k, n]) => [k, n * SCALE])) as Record<'post' | 'get' | 'raw' | 'sse' | 'ws', number>;
const LANES = 6;
/** No answer within this is a hang. */
const ANSWER_MS = 10_000;
/** Streams (SSE, graphql-ws sessions) that are still open after this are fine: they are streams. */
const STREAM_MS = 2_000;

const root = new URL('../..', import.meta.url).pathname;

interface Gateway {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  stderr: string[];
}

let upstream: Upstream;
let gw: Gateway;
const problems: { transport: string; index: number; request: string; problem: string }[] = [];
const secrets = new Set<string>([TEST_API_KEY, EMULATOR_CLIENT_SECRET]);
const victimNumbers = ['2001004015', '2001004018'];
const victimIds: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: LANES });
let sent = 0;

async function startChild(env: Record<string, string>): Promise<Gateway> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let out = '';
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(...chunk.toString().split('\n').filter(Boolean)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway printed no URL within 60 s:\n${out}\n${stderr.join('\n')}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
        else out += `${line}\n`;
      }
      const printed = /listening at (http:\S+)/.exec(out)?.[1];
      if (printed) {
        clearTimeout(timer);
        resolve(printed);
      }
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}:\n${out}\n${stderr.join('\n')}`)));
  });
  return { child, url, logs, stderr };
}

const alive = () => gw.child.exitCode === null && gw.child.signalCode === null;

async function rssBytes(): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

// ---------------------------------------------------------------------------------------------
// What an answer must never be or contain

const STACK = /\n\s+at\s|\bat\s+(?:async\s+)?\S+\s+\((?:file:|\/|node:)[^)]*:\d+:\d+\)|\bat\s+(?:file:\/\/|node:internal)/;
const INTERNAL_PATH = /\/work\/|\/home\/|\/usr\/lib\/node|node_modules|file:\/\/|\bsrc\/[\w-]+\/[\w-]+\.[jt]s|\.ts:\d+/;
const MASKED = /Unexpected error\.|Internal server error/;

function judgeText(text: string, requestText: string): string | undefined {
  const own = (s: string) => requestText.includes(s);
  if (MASKED.test(text)) return `masked internal error: ${text.slice(0, 300)}`;
  const stack = STACK.exec(text);
  if (stack && !own(stack[0])) return `stack trace: ${text.slice(Math.max(0, stack.index - 100), stack.index + 200)}`;
  const path = INTERNAL_PATH.exec(text);
  if (path && !own(path[0])) return `internal path "${path[0]}": ${text.slice(Math.max(0, path.index - 100), path.index + 100)}`;
  for (const secret of secrets) if (text.includes(secret) && !own(secret)) return `secret in answer: ${secret.slice(0, 6)}…`;
  for (const number of victimNumbers) if (text.includes(number) && !own(number)) return `another user's phone number in answer: ***${number.slice(-4)}`;
  return undefined;
}

const record = (transport: string, index: number, request: string, problem: string | undefined) => {
  if (problem) problems.push({ transport, index, request: request.slice(0, 300), problem });
};

// ---------------------------------------------------------------------------------------------
// Senders

interface HttpAnswer {
  status: number;
  text: string;
  contentType: string;
}

/**
 * A request, sent again once on a new connection when a kept-alive one was reset under it: a
 * server may close an idle connection just as a client reuses it (HTTP allows both), and every
 * HTTP client retries that case. A reset of a new connection is an answer, and judged.
 */
async function sendHttp(req: { method: string; path: string; headers: Record<string, string>; body?: string }, stream = false): Promise<HttpAnswer | { error: string }> {
  const answer = await sendHttpOnce(req, stream, stream);
  if (!('error' in answer) || !answer.error.endsWith('(on a reused connection)')) return answer;
  reusedResets++;
  return sendHttpOnce(req, stream, true);
}

let reusedResets = 0;

/** `stream`: read for at most STREAM_MS; `fresh`: a connection of its own instead of the shared keep-alive pool. */
function sendHttpOnce(req: { method: string; path: string; headers: Record<string, string>; body?: string }, stream: boolean, fresh: boolean): Promise<HttpAnswer | { error: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: HttpAnswer | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = httpRequest({ host: hostname, port, method: req.method, path: req.path, headers: req.headers, agent: fresh ? false : agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        const answer = () => ({ status: res.statusCode ?? 0, text, contentType: String(res.headers['content-type'] ?? '') });
        res.on('data', (chunk: string) => {
          text += chunk;
          // An SSE stream that is still open after its first events is a live subscription: enough seen.
          if (stream && /event: complete/.test(text)) done(answer());
        });
        res.on('end', () => done(answer()));
        res.on('error', () => done(answer()));
        res.on('close', () => done(answer()));
        if (stream) setTimeout(() => (done(answer()), outgoing.destroy()), STREAM_MS).unref();
      });
    } catch (error) {
      return resolve({ error: `client refused to send: ${(error as Error).message}` });
    }
    const timer = setTimeout(() => {
      outgoing.destroy();
      done({ error: `no answer within ${ANSWER_MS} ms` });
    }, ANSWER_MS);
    outgoing.on('error', (error: NodeJS.ErrnoException) => done({ error: `${error.code ?? error.message}${outgoing.reusedSocket ? ' (on a reused connection)' : ''}` }));
    if (req.body !== undefined) outgoing.end(req.body);
    else outgoing.end();
  });
}

/** What is wrong with an HTTP answer. */
function judgeHttp(answer: HttpAnswer | { error: string }, requestText: string, bodyBytes: number, headBytes: number): string | undefined {
  if ('error' in answer) {
    // A body over the 64 KiB cap is answered 413 before it is read, and a head over Node's 16 KiB
    // 431, so the client may be cut off while still writing it.
    if ((bodyBytes > 64 * 1024 || headBytes > 16 * 1024) && /EPIPE|ECONNRESET/.test(answer.error)) return undefined;
    return `no answer: ${answer.error}`;
  }
  if (answer.status >= 500) return `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status < 100) return `no status: ${answer.text.slice(0, 300)}`;
  return judgeText(answer.text, requestText);
}

const headBytes = (headers: Record<string, string>, path: string) =>
  Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + Buffer.byteLength(value, 'latin1') + 4, path.length + 100);

function sendRaw(text: string): Promise<{ status: number | undefined; text: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : undefined, text: received });
    };
    const timer = setTimeout(finish, STREAM_MS);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', () => {});
    socket.write(text);
  });
}

interface WsAnswer {
  messages: string[];
  close?: { code: number; reason: string };
  error?: string;
}

interface WsSession {
  init: string | undefined;
  frames: WsFrame[];
  headers: [string, string][];
}

function sendWs(session: WsSession): Promise<WsAnswer> {
  return new Promise((resolve) => {
    const socket = new WebSocket(gw.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { headers: Object.fromEntries(session.headers) });
    const answer: WsAnswer = { messages: [] };
    let phase: 'init' | 'frames' | 'settle' | 'done' = 'init';
    const timer = setTimeout(() => finish(), STREAM_MS * 2);
    const finish = () => {
      if (phase === 'done') return;
      phase = 'done';
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
      // The answer is what the server did: wait for its close only if it began one.
      setImmediate(() => resolve(answer));
    };
    const sendFrames = () => {
      phase = 'frames';
      for (const frame of session.frames) {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (frame.kind === 'binary') socket.send(Buffer.alloc(frame.bytes, 0x7b));
        else if (frame.kind === 'duplicate') (socket.send(frame.text), socket.send(frame.text));
        else socket.send(frame.text);
      }
      phase = 'settle';
      // graphql-ws answers a ping after everything sent before it.
      if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping","payload":{"settle":true}}');
    };
    socket.on('open', () => {
      if (session.init === undefined) return sendFrames();
      socket.send(session.init);
    });
    socket.on('message', (data) => {
      const text = String(data);
      answer.messages.push(text);
      if (phase === 'init' && text.includes('"connection_ack"')) sendFrames();
      if (phase === 'settle' && text.includes('"pong"') && text.includes('"settle"')) finish();
      if (text.startsWith('{"type":"ping"')) socket.send('{"type":"pong"}');
    });
    socket.on('close', (code, reason) => {
      answer.close ??= { code, reason: String(reason) };
      if (phase === 'init') return finish();
      finish();
    });
    socket.on('unexpected-response', (_req, res) => {
      answer.error = `upgrade refused ${res.statusCode}`;
      res.resume();
      finish();
    });
    socket.on('error', (error) => {
      answer.error ??= error.message;
    });
  });
}

/** Close codes a hostile client may be given; 1000 and 1005 are its own close, 4500 and 1011 are the gateway's faults. */
const FAIR_CLOSES = new Set([1000, 1005, 1002, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);

function judgeWs(session: WsSession, answer: WsAnswer, requestText: string): string | undefined {
  if (answer.error) {
    // An upgrade refused with a 4xx (Origin, a head too large) is an answer; the socket that never opened then "closes" 1006.
    if (/^upgrade refused 4\d\d$/.test(answer.error)) return undefined;
    if (headBytes(Object.fromEntries(session.headers), '/graphql') > 16 * 1024 && /ECONNRESET|EPIPE|socket hang up/.test(answer.error)) return undefined;
    if (!answer.close) return `no answer: ${answer.error}`;
  }
  if (answer.close && !FAIR_CLOSES.has(answer.close.code)) return `closed ${answer.close.code} ${answer.close.reason}`;
  const first = session.frames[0]!;
  // graphql-ws: a client may not send `next`; the server closes 4400.
  if (session.init === '{"type":"connection_init","payload":{}}' && session.headers.length === 0 && first.kind === 'text' && first.text.startsWith('{"id":"1","type":"next"')) {
    if (answer.close?.code !== 4400) return `a client's next message did not close 4400 (${JSON.stringify(answer.close)})`;
  }
  for (const text of [...answer.messages, answer.close?.reason ?? '']) {
    const problem = judgeText(text, requestText);
    if (problem) return problem;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startChild({
    NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
    GATEWAY_API_KEYS: TEST_API_KEY, ...upstream.env,
    // The fuzzing client is the gateway's own proxy: the Forwarded headers it makes up are parsed.
    TRUSTED_PROXIES: '127.0.0.1', TRUST_PROXY_HEADER: process.env.FUZZ_PROXY_HEADER ?? 'forwarded',
    // Requests may name these documents by id (documentId, the APQ extension), hostile ids among them.
    TRUSTED_DOCUMENTS: MANIFEST,
  });
  // Two other users' flows, started by the operator's backend: nothing of theirs may reach a fuzzing caller but what their id shows anyone.
  for (const phoneNumber of victimNumbers) {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ query: START, variables: { input: { possessionType: 'MOBILE', phoneNumber } } }),
    });
    const body = (await res.json()) as { data: { startUnify: { authToken: string; flow: { id: string } } } };
    victimIds.push(body.data.startUnify.flow.id);
    secrets.add(body.data.startUnify.authToken);
  }
  for (const set of [upstream.seen.accessTokens, upstream.seen.correlationIds]) for (const s of set) secrets.add(s);
}, 120_000);

afterAll(async () => {
  agent.destroy();
  if (gw && alive()) {
    const exited = new Promise((resolve) => gw.child.once('exit', resolve));
    gw.child.kill('SIGTERM');
    await exited;
  }
  await upstream?.close();
});

const sample = <T>(arbitrary: fc.Arbitrary<T>, numRuns: number, offset: number): T[] => fc.sample(arbitrary, { seed: SEED + offset, numRuns });

describe('hostile traffic, generated', () => {
  it(`${Object.values(RUNS).reduce((a, b) => a + b)} requests over HTTP, SSE and graphql-ws: no crash, no 5xx, no leak, no error-level log line, bounded memory`, async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const started = Date.now();
    const rssBefore = await rssBytes();
    const timings: Record<string, number> = {};
    const rss: Record<string, number> = {};
    const phase = async (name: string, work: () => Promise<void>) => {
      const t0 = Date.now();
      await work();
      timings[name] = Date.now() - t0;
      rss[name] = await rssBytes();
      // Record secrets handed out since (flows the fuzz itself started reach Prove too).
      for (const set of [upstream.seen.accessTokens, upstream.seen.correlationIds]) for (const s of set) secrets.add(s);
      if (!alive()) throw new Error(`the gateway died during ${name}: ${gw.stderr.slice(-20).join('\n')}`);
    };

    await phase('post', async () => {
      const cases = sample(fc.record({ method, contentType, accept, headers: extraHeaders, body: postBody(victimIds) }), RUNS.post, 1);
      await inBatches(cases, LANES, async (c, i) => {
        const headers: Record<string, string> = Object.fromEntries(c.headers);
        if (c.contentType) headers['content-type'] = c.contentType;
        if (c.accept) headers.accept = c.accept;
        const withBody = c.method !== 'GET' && c.method !== 'HEAD';
        const body = withBody ? c.body : undefined;
        const requestText = `${JSON.stringify(c.headers)} ${c.body}`;
        const answer = await sendHttp({ method: c.method, path: '/graphql', headers, body }, headers.accept?.includes('event-stream') || headers.accept?.includes('multipart'));
        sent++;
        record('http-post', i, `${c.method} ${c.contentType} ${c.body.slice(0, 200)}`, judgeHttp(answer, requestText, Buffer.byteLength(body ?? ''), headBytes(headers, '/graphql')));
      });
    });

    await phase('get', async () => {
      const cases = sample(fc.record({ path: getPath(victimIds), csrf: fc.boolean(), accept, headers: extraHeaders }), RUNS.get, 2);
      await inBatches(cases, LANES, async (c, i) => {
        const headers: Record<string, string> = Object.fromEntries(c.headers);
        if (c.csrf) headers['x-graphql-yoga-csrf'] = '1';
        if (c.accept) headers.accept = c.accept;
        const answer = await sendHttp({ method: 'GET', path: c.path, headers }, headers.accept?.includes('event-stream') || headers.accept?.includes('multipart'));
        sent++;
        let requestText = `${JSON.stringify(c.headers)} ${c.path}`;
        try {
          requestText += decodeURIComponent(c.path);
        } catch {
          // not valid percent-encoding: the raw path is what was sent
        }
        record('http-get', i, c.path.slice(0, 300), judgeHttp(answer, requestText, 0, headBytes(headers, c.path)));
      });
    });

    await phase('raw', async () => {
      const cases = sample(rawRequest, RUNS.raw, 3);
      await inBatches(cases, LANES, async (text, i) => {
        const answer = await sendRaw(text);
        sent++;
        if (answer.status !== undefined && answer.status >= 500) record('raw', i, text, `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
        else record('raw', i, text, judgeText(answer.text, text));
      });
    });

    await phase('sse', async () => {
      const cases = sample(fc.record({ request: sseRequest(victimIds), headers: extraHeaders }), RUNS.sse, 4);
      await inBatches(cases, LANES, async (c, i) => {
        const headers: Record<string, string> = { ...Object.fromEntries(c.headers), accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' };
        if (c.request.method === 'POST') headers['content-type'] = 'application/json';
        const answer = await sendHttp({ method: c.request.method, path: c.request.path, headers, body: c.request.body }, true);
        sent++;
        let requestText = `${JSON.stringify(c.headers)} ${c.request.path} ${c.request.body ?? ''}`;
        try {
          requestText += decodeURIComponent(c.request.path);
        } catch {
          // not valid percent-encoding
        }
        record('sse', i, `${c.request.method} ${c.request.path.slice(0, 100)} ${(c.request.body ?? '').slice(0, 200)}`, judgeHttp(answer, requestText, Buffer.byteLength(c.request.body ?? ''), headBytes(headers, c.request.path)));
      });
    });

    await phase('ws', async () => {
      const cases = sample(wsSession(victimIds), RUNS.ws, 5);
      await inBatches(cases, LANES, async (session, i) => {
        const answer = await sendWs(session);
        sent++;
        const requestText = [JSON.stringify(session.headers), session.init ?? '', ...session.frames.map((f) => (f.kind === 'binary' ? '' : f.text))].join(' ');
        record('graphql-ws', i, requestText.slice(0, 300), judgeWs(session, answer, requestText));
      });
    });

    // The process is up and serving, its memory bounded.
    expect(alive()).toBe(true);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    const rssAfter = await rssBytes();
    const errorLines = gw.logs.filter((l) => Number(l.level) >= 50);
    const elapsed = Date.now() - started;
    console.log(
      `fuzz: ${sent} requests in ${(elapsed / 1000).toFixed(1)} s (${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}); ` +
        `${reusedResets} resets of a reused connection sent again; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${Object.entries(rss).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)}`).join(', ')} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB; ${problems.length} problems; ${errorLines.length} error-level log lines`,
    );
    if (errorLines.length) console.log('error-level lines:', [...new Set(errorLines.map((l) => `${l.msg} ${JSON.stringify(l.err ?? '')}`))].slice(0, 20));
    if (problems.length) console.log('problems by kind:', Object.entries(problems.reduce<Record<string, number>>((acc, p) => ((acc[`${p.transport}: ${p.problem.slice(0, 60)}`] = (acc[`${p.transport}: ${p.problem.slice(0, 60)}`] ?? 0) + 1), acc), {})));
    expect(sent).toBeGreaterThanOrEqual(2_000);
    expect(problems.slice(0, 15), `${problems.length} problems`).toEqual([]);
    expect(errorLines.slice(0, 10)).toEqual([]);
    expect(gw.stderr.filter((line) => !/ExperimentalWarning|--trace-warnings/.test(line))).toEqual([]);
    expect(rssAfter).toBeLessThan(Math.max(rssBefore * 2, rssBefore + 150 * 2 ** 20));
    expect(rssAfter).toBeLessThan(600 * 2 ** 20);
  }, 600_000);
});
