import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createProveEmulator } from '../../src/emulator/index.js';

/**
 * `npm start` as a newcomer meets it: --help, the start-up errors (one line naming the variable,
 * exit 1, no stack trace), a start that reuses its bundle, and SIGTERM stopping every process.
 */

const root = new URL('../..', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterAll(() => {
  // Each start has its own process group: whatever a failed test left running goes with it.
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function npmStart(env: Record<string, string>, args: string[] = []) {
  const child = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'warn', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stopped = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  return { child, exited, stopped, out: () => stdout, err: () => stderr };
}

/** The gateway's own lines, without npm's "> unify-gateway@… start" banner. */
const ownLines = (text: string) => text.split('\n').filter((line) => line.trim() && !line.startsWith('>'));

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function listeningServer(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) if (ppid === parent) (found.push(child), walk(child));
  };
  walk(pid);
  return found;
}
const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe('npm start: start-up errors name the variable', () => {
  it('a port in use: one line naming PORT, exit 1, no stack trace', async () => {
    const occupied = await listeningServer();
    try {
      const port = (occupied.address() as { port: number }).port;
      const run = npmStart({ PORT: String(port) });
      expect(await run.exited).toBe(1);
      expect(ownLines(run.err())).toEqual([expect.stringMatching(new RegExp(`^cannot start: PORT: ${port} is already in use on 127\\.0\\.0\\.1`))]);
      expect(run.err()).not.toMatch(/\n\s+at /);
      // Nothing else, and no error-level log line from a part of the gateway that saw the failed listen.
      expect(ownLines(run.out())).toEqual([]);
    } finally {
      occupied.close();
    }
  });

  it('a host that does not resolve: one line naming HOST, exit 1', async () => {
    const run = npmStart({ HOST: 'no-such-host.invalid' });
    expect(await run.exited).toBe(1);
    expect(ownLines(run.err())).toEqual([expect.stringMatching(/^cannot start: HOST: "no-such-host\.invalid" cannot be resolved/)]);
    expect(ownLines(run.out())).toEqual([]);
  });

  it('a host that is not this machine: one line naming HOST, exit 1', async () => {
    const run = npmStart({ HOST: '192.0.2.1' });
    expect(await run.exited).toBe(1);
    expect(ownLines(run.err())).toEqual([expect.stringMatching(/^cannot start: HOST: "192\.0\.2\.1" is not an address of this machine/)]);
  });

  it('a bad value: the configuration error, exit 1', async () => {
    const run = npmStart({ PORT: 'abc' });
    expect(await run.exited).toBe(1);
    expect(ownLines(run.err())).toEqual(['invalid configuration:', '  PORT: must be a whole number from 0 to 65535, got "abc"']);
  });

  it('--help prints every variable the README documents, and an unknown argument is refused', async () => {
    const help = npmStart({}, ['--help']);
    expect(await help.exited).toBe(0);
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?/gm)].flatMap((m) => [m[1]!, m[2]].filter(Boolean)) as string[];
    expect(documented.length).toBeGreaterThan(20);
    for (const name of documented) expect(help.out()).toContain(name);

    const wrong = npmStart({}, ['--port', '5000']);
    expect(await wrong.exited).toBe(1);
    expect(ownLines(wrong.err())).toEqual([expect.stringMatching(/^unknown argument "--port".*--help/)]);
  });
});

describe('npm start: fast, and stopped whole', () => {
  it('reuses its bundle on the next start, and SIGTERM to npm stops every process it started', async () => {
    const first = npmStart({ LOG_LEVEL: 'info' });
    await waitFor('listening', () => (/listening at (http:\S+)/.exec(first.out()) ? true : undefined));
    const cache = `${root}node_modules/.cache/unify-gateway/`;
    const bundles = () => readdirSync(cache).filter((name) => !name.includes('.partial')).sort();
    const before = bundles();
    // The newest bundle is the one this start ran.
    const bundle = before.map((name) => ({ name, at: statSync(`${cache}${name}/main.mjs`).mtimeMs })).sort((a, b) => b.at - a.at)[0]!.name;
    const builtAt = statSync(`${cache}${bundle}/main.mjs`).mtimeMs;

    const tree = descendants(first.child.pid!);
    expect(tree.length).toBeGreaterThan(0);
    first.child.kill('SIGTERM');
    // npm passes the signal on and ends by it (or with the gateway's exit 0).
    expect(['SIGTERM', 'exit 0']).toContain(await first.stopped);
    // Every process npm started is gone too: none is left running on its own.
    await waitFor('the whole tree to stop', () => (tree.every((pid) => !alive(pid)) ? true : undefined), 5_000);

    const second = npmStart({});
    await waitFor('listening again', () => (/listening at/.test(second.out()) ? true : undefined));
    // No new bundle, the same file: nothing was built again.
    expect(bundles()).toEqual(before);
    expect(statSync(`${cache}${bundle}/main.mjs`).mtimeMs).toBe(builtAt);
    second.child.kill('SIGTERM');
    expect(['SIGTERM', 'exit 0']).toContain(await second.stopped);
  });
});

describe('npm start: Prove credentials checked at start', () => {
  it('refused credentials: one warning naming the variables right after start, no secret', async () => {
    const prove = createProveEmulator();
    const { url } = await prove.listen({ port: 0 });
    try {
      const run = npmStart({
        PROVE_BASE_URL: url, PROVE_CLIENT_ID: 'emulator-client', PROVE_CLIENT_SECRET: 'not-the-right-secret', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
      });
      const warning = await waitFor('the credentials warning', () =>
        run.out().split('\n').find((line) => line.includes('refused our credentials at start')));
      expect(JSON.parse(warning)).toMatchObject({ level: 40, msg: expect.stringContaining('check PROVE_CLIENT_ID and PROVE_CLIENT_SECRET') });
      expect(run.out()).not.toContain('not-the-right-secret');
      expect(run.out().split('\n').filter((line) => line.includes('at start'))).toHaveLength(1);
      run.child.kill('SIGTERM');
      await run.stopped;
    } finally {
      await prove.close();
    }
  });
});
