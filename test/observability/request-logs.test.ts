import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { print } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { refusedKeyWarning } from '../../src/observability/refused-key-log.js';
import { StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { captureLogs, leaks } from '../security/support.js';

const flowRef = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/flow-ref.ts', ...args], { cwd: process.cwd() });

/** Request ids and the log lines an operator searches: one gateway, its real logger writing to memory. */

let gw: TestGateway;
const { logger, lines } = captureLogs('info');
const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  gw = await startGateway({}, { logger });
});
afterAll(() => gw.close());

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as any };
}

const startBody = (phoneNumber: string) => ({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber } } });

describe('x-request-id', () => {
  it("a client's well-formed id is echoed and carried by every log line that request writes", async () => {
    const id = 'client-7f3a.9:b_c=1/2';
    const res = await post(startBody('2001004014'), { 'x-request-id': id });
    expect(res.status).toBe(200);
    expect(res.requestId).toBe(id);
    const started = parsed().filter((l) => l.msg === 'flow started');
    expect(started.at(-1)?.requestId).toBe(id);
  });

  it('a missing, oversized or hostile id is replaced by a new UUID, never copied into a log line', async () => {
    const hostile = ['', 'has space', 'x'.repeat(129), 'quote"in', 'new\\nline', '{"level":60}', '+15551234567'];
    const seen = new Set<string>();
    for (const value of hostile) {
      const res = await post({ query: '{ __typename }' }, value ? { 'x-request-id': value } : {});
      expect(res.status).toBe(200);
      expect(res.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(res.requestId!);
    }
    // One made per request, not one per process.
    expect(seen.size).toBe(hostile.length);
    expect(lines.some((l) => l.includes('has space') || l.includes('quote\\"in') || l.includes('xxxxxxxxxxxxxxxxxxxx'))).toBe(false);
  });

  it('answers that never reach GraphQL (health, 404, refused bodies) carry one too', async () => {
    for (const path of ['/health', '/nowhere', '/metrics']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { 'x-request-id': 'probe-1' } });
      await res.arrayBuffer();
      expect(res.headers.get('x-request-id')).toBe('probe-1');
    }
    const huge = await fetch(gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(200_000) });
    await huge.arrayBuffer();
    expect(huge.status).toBe(413);
    expect(huge.headers.get('x-request-id')).toBeTruthy();
  });

  it('two requests at once keep their own ids in their own lines', async () => {
    const [a, b] = await Promise.all([
      post(startBody('2001004014'), { 'x-request-id': 'parallel-a' }),
      post(startBody('2001004015'), { 'x-request-id': 'parallel-b' }),
    ]);
    const byId = (id: string) => parsed().filter((l) => l.msg === 'flow started' && l.requestId === id);
    expect(byId('parallel-a')).toHaveLength(1);
    expect(byId('parallel-b')).toHaveLength(1);
    expect(byId('parallel-a')[0]!.phone).toMatch(/14$/);
    expect(byId('parallel-b')[0]!.phone).toMatch(/15$/);
    expect([a.requestId, b.requestId]).toEqual(['parallel-a', 'parallel-b']);
  });
});

describe('flow lines', () => {
  it("a FAILED line names Prove's reason (9100), and npm run flow-ref finds the flow's lines from its id", async () => {
    const res = await post(startBody('2001004014'), { 'x-request-id': 'fails-9100' });
    const flowId = res.body.data.startUnify.flow.id as string;
    // Asking before the device finished: Prove answers 9100.
    const status = await post({ query: print(UnifyStatusDocument), variables: { flowId } }, { 'x-request-id': 'status-9100' });
    expect(status.body.data.unifyStatus.__typename).toBe('PossessionFailedError');

    const { stdout } = await flowRef([flowId]);
    const reference = stdout.trim();
    expect(reference).toMatch(/^[A-Za-z0-9_-]{10}$/);
    const mine = parsed().filter((l) => l.flow === reference);
    expect(mine.map((l) => [l.msg, l.requestId])).toEqual([
      ['flow started', 'fails-9100'],
      ['flow changed', 'status-9100'],
    ]);
    expect(mine[1]).toMatchObject({ state: 'FAILED', failureReasons: [9100] });
    expect(lines.some((l) => l.includes(flowId))).toBe(false);
  });

  it('flow-ref refuses what is not a flow id', async () => {
    const run = flowRef(['not a flow id']);
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('not a flow id') });
  });
});

describe('refused API keys', () => {
  it('a refusal over HTTP is a warning with the request id, never the key', async () => {
    const res = await post({ query: '{ __typename }' }, { authorization: 'Bearer wrong-key-0123456789-secretish', 'x-request-id': 'bad-key-1' });
    expect(res.status).toBe(401);
    const warning = parsed().filter((l) => l.msg === 'API key refused');
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ level: 40, where: 'http', reason: 'no such API key', refusals: 1, requestId: 'bad-key-1' });
    expect(leaks(lines, ['wrong-key-0123456789-secretish', TEST_API_KEY])).toEqual([]);
  });

  it('a refusal at graphql-ws connect (4403) is a warning too', async () => {
    const own = captureLogs('info');
    const other = await startGateway({}, { logger: own.logger });
    try {
      const ws = new WebSocket(other.graphqlUrl.replace('http', 'ws'), 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'not-bearer-at-all-secret' } })));
      expect(await closed).toBe(4403);
      const warnings = own.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'API key refused');
      expect(warnings).toEqual([expect.objectContaining({ where: 'graphql-ws', reason: 'not a Bearer credential', refusals: 1 })]);
      expect(leaks(own.lines, ['not-bearer-at-all-secret'])).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('a flood of bad keys writes a line a second at most', async () => {
    const before = parsed().filter((l) => l.msg === 'API key refused').length;
    const began = Date.now();
    const results = await Promise.all(Array.from({ length: 60 }, () => post({ query: '{ __typename }' }, { authorization: 'Bearer flood-key-0123456789abcdef' })));
    const seconds = (Date.now() - began) / 1000;
    expect(results.every((r) => r.status === 401)).toBe(true);
    const flood = parsed().filter((l) => l.msg === 'API key refused').slice(before);
    expect(flood.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(lines.some((l) => l.includes('flood-key'))).toBe(false);
  });

  it('each line counts the refusals it stands for: the first, then those held back since', () => {
    const out = captureLogs('info');
    let now = 10_000;
    const warn = refusedKeyWarning(out.logger, () => now);
    warn('http', 'Bearer a-wrong-key-0123456789');
    for (let i = 0; i < 5; i++) (now += 100, warn('http', 'Bearer a-wrong-key-0123456789'));
    now += 600;
    warn('graphql-ws', undefined);
    const logged = out.lines.map((l) => JSON.parse(l));
    expect(logged.map((l) => [l.where, l.refusals, l.reason])).toEqual([
      ['http', 1, 'no such API key'],
      ['graphql-ws', 6, 'not a Bearer credential'],
    ]);
  });
});

describe('LOG_FORMAT', () => {
  const capture = (format: 'json' | 'pretty') => {
    const out: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk.toString('utf8')), done()) });
    createLogger('info', { format, destination: sink }).info({ flow: 'abc', phoneNumber: '+15551234567' }, 'flow started');
    return out.join('');
  };

  it('json writes one object a line; pretty writes a line a person reads; both redact', () => {
    const json = JSON.parse(capture('json'));
    expect(json).toMatchObject({ msg: 'flow started', flow: 'abc', level: 30, phoneNumber: '[redacted]' });
    const pretty = capture('pretty');
    expect(() => JSON.parse(pretty)).toThrow();
    expect(pretty).toMatch(/INFO.*flow started/);
    expect(pretty).toContain('[redacted]');
    expect(pretty).not.toContain('5551234567');
  });

  it('is validated at start', () => {
    expect(loadConfig({ NODE_ENV: 'test', LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test' }).logFormat).toBeUndefined();
    expect(() => loadConfig({ NODE_ENV: 'test', LOG_FORMAT: 'xml' })).toThrow(ConfigError);
  });
});
