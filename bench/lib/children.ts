import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Servers under test run in child processes, so the load generator never shares their event loop.
 * Every child is started here and stopped by its pid: on success, on failure and on exit.
 */

export interface ChildInfo {
  url: string;
  [key: string]: unknown;
}

export interface Child {
  name: string;
  pid: number;
  info: ChildInfo;
  /** One request/reply over IPC; the child answers { id, ok, value | error }. */
  call<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

const running = new Map<number, ChildProcess>();

function killAll(signal: NodeJS.Signals) {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

process.once('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll('SIGKILL');
    process.exit(130);
  });
}

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface StartOptions {
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  args?: Record<string, unknown>;
  readyTimeoutMs?: number;
  /** Another checkout's bench directory (A/B comparisons against a git worktree). */
  benchDir?: string;
}

const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

/**
 * Compiles a checkout (`tsc -p tsconfig.build.json`, what `npm run build` runs) so its children run
 * as plain `node dist/bench/servers/*.js`, as a production start runs `node dist/src/main.js`:
 * no tsx loader in the process measured. A checkout without that config (an older commit in an
 * A/B) keeps running its sources under tsx. Returns whether the checkout is built.
 */
export function build(benchDir = BENCH_DIR): boolean {
  const root = `${benchDir.replace(/\/$/, '')}/../`;
  if (!existsSync(`${root}tsconfig.build.json`)) return false;
  execFileSync(process.execPath, [TSC, '-p', `${root}tsconfig.build.json`], { cwd: root, stdio: 'inherit' });
  return true;
}

/** The compiled script when the checkout is built (run.ts and ab.ts build first), else the source under tsx. */
function command(benchDir: string, script: string): string[] {
  const compiled = `${benchDir}../dist/bench/servers/${script}.js`;
  return existsSync(compiled) ? [compiled] : ['--import', 'tsx', `${benchDir}servers/${script}.ts`];
}

/** Starts bench/servers/<script> (compiled if built, see build()) and waits for its { ready } message. */
export function startChild(script: string, options: StartOptions = {}): Promise<Child> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...command(options.benchDir ?? BENCH_DIR, script)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ...options.env,
      BENCH_ARGS: JSON.stringify(options.args ?? {}),
    },
  });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error(`could not start ${script}`));
  running.set(pid, child);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      running.delete(pid);
      resolve();
    }),
  );

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id?: number; ok?: boolean; value?: unknown; error?: string }) => {
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(`${script}: ${message.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${code ?? signal})`));
    pending.clear();
  });

  const stop = async () => {
    if (exited) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 8_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} did not become ready`));
    }, options.readyTimeoutMs ?? 30_000);
    const onReady = (message: { ready?: ChildInfo }) => {
      if (!message.ready) return;
      clearTimeout(timer);
      child.off('message', onReady);
      resolve({
        name: script,
        pid,
        info: message.ready,
        stop,
        call: <T>(command: string, args: Record<string, unknown> = {}, timeoutMs = 60_000) =>
          new Promise<T>((res, rej) => {
            const id = nextId++;
            const t = setTimeout(() => {
              pending.delete(id);
              rej(new Error(`${script}: ${command} timed out`));
            }, timeoutMs);
            pending.set(id, {
              resolve: (v) => (clearTimeout(t), res(v as T)),
              reject: (e) => (clearTimeout(t), rej(e)),
            });
            child.send({ id, command, args });
          }),
      });
    };
    child.on('message', onReady);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before ready (${code ?? signal})`));
    });
  });
}

export async function stopAll(children: Iterable<Child | undefined>): Promise<void> {
  await Promise.all([...children].map((c) => c?.stop()));
}
