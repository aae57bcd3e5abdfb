import { required } from '../support/requirements.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Fixtures for outages: a redis-server of our own that can be stopped and started again on the
 * same port (never the shared one on 6379), and the real `src/main.ts` as a child process that can
 * be sent SIGTERM or SIGKILL.
 */

export const ROOT = new URL('../..', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The redis-server binary. Missing, the suites that need one skip on a developer's machine and
 * fail in CI (see requirements.ts).
 */
export function redisServerBin(): string | undefined {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  const probe = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  const ok = required(probe.status === 0, {
    what: `the redis-server binary (${bin})`,
    fix: "install Debian's redis-server package (.ci/run does) or set REDIS_SERVER_BIN",
    promised: process.env.REDIS_SERVER_BIN !== undefined && process.env.REDIS_SERVER_BIN !== '',
  });
  return ok ? bin : undefined;
}

export interface OwnRedis {
  url: string;
  port: number;
  /** SHUTDOWN SAVE: the data set is written to disk first, as a Redis with persistence does. */
  stop(): Promise<void>;
  /** Starts again on the same port, loading what stop() saved. */
  start(): Promise<void>;
  /** SIGKILL: no save, no goodbye; only what the append-only file already holds survives. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export interface OwnRedisOptions {
  /**
   * The deployment configuration the README gives: an append-only file fsynced on every write
   * (`appendonly yes`, `appendfsync always`). Off: no persistence at all.
   */
  appendOnly?: boolean;
  /** With appendOnly: `everysec` (Redis' default with AOF) instead of `always`. */
  appendFsync?: 'always' | 'everysec';
}

export async function startOwnRedis(bin: string, options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'unify-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };

  const start = async () => {
    const persistence = options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'always'] : ['--appendonly', 'no'];
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (await ping()) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not answer on ${port}`);
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => {});
    // The connection drops as the server exits: that rejection is the expected answer.
    await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    admin.disconnect();
    await exited;
  };

  const kill = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    port,
    stop,
    start,
    kill,
    async close() {
      if (child && child.exitCode === null) {
        const proc = child;
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ChildGateway {
  proc: ChildProcess;
  url: string;
  graphqlUrl: string;
  /** Everything the process printed (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * `src/main.ts` through tsx in a process of its own (`node --import tsx`, one process, so a signal
 * reaches the gateway itself and not a wrapper).
 */
export async function spawnGateway(env: Record<string, string>, { startTimeoutMs = 20_000 } = {}): Promise<ChildGateway> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      STATUS_PAGE: 'off',
      START_LIMIT_PER_NUMBER: '100000/1m',
      START_LIMIT_PER_NUMBER_ALL: '100000/1m',
      START_LIMIT_PER_NUMBER_TRUSTED: '100000/1m',
      START_LIMIT_PER_ADDRESS: '100000/1m',
      PROVE_RATE_LIMIT: '10000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within ${startTimeoutMs / 1000} s:\n${out}`)), startTimeoutMs);
    const onData = () => {
      const match = /unify-gateway listening at (http:\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve(match[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return { proc, url, graphqlUrl: `${url}/graphql`, output: () => out, exited };
}

/** Kills a child gateway that a test left running. */
export async function reap(child: ChildGateway | undefined): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGKILL');
  await child.exited;
}

/** POST a GraphQL request; never throws on HTTP status. */
export async function post(graphqlUrl: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparsable: text };
  }
  return { status: res.status, body, headers: res.headers };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/**
 * Calls again while the answer is the upstream budget's refusal (UpstreamError "rate_limited"): on
 * a busy machine slots fire too late to use and are replaced, so a call may find no slot within
 * its wait and be refused, and a front end retries it. Any other answer is returned as it is.
 */
export async function retryingBudget<T extends { __typename: string; message?: string }>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await call();
    if (result.__typename !== 'UpstreamError' || !result.message?.includes('rate_limited') || attempt === 20) return result;
    await sleep(20 * attempt);
  }
}
