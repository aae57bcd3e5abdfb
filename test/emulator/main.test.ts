/** `npm run emulator` as a real process: what it prints, that it serves, and that it stops cleanly. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

function run(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(tsx, ['src/emulator/main.ts'], { cwd: root, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(read: () => string, pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = read().match(pattern);
    if (m) return m;
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output so far:\n${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('src/emulator/main.ts', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves on EMULATOR_PORT, prints URL and client id but never the secret, stops on %s', async (signal) => {
    const secret = 'very-secret-value-4711';
    const p = run({ EMULATOR_PORT: '0', EMULATOR_CLIENT_ID: 'main-client', EMULATOR_CLIENT_SECRET: secret });
    try {
      const [, url] = await waitFor(p.output, /Prove emulator listening at (http:\/\/127\.0\.0\.1:\d+)/);
      await waitFor(p.output, /main-client/);
      const token = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'main-client', client_secret: secret }),
      });
      expect(token.status).toBe(200);
      p.child.kill(signal);
      expect(await p.exited).toBe(0);
      expect(p.output()).not.toContain(secret);
      expect(p.output()).not.toContain('emulator-secret');
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('refuses a malformed EMULATOR_PORT with one line naming it', async () => {
    const p = run({ EMULATOR_PORT: 'eighty' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/EMULATOR_PORT/);
  });
});
