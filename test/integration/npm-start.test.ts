import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { emulatorClient } from '../support/gateway.js';

/** The README's quick start, as a person runs it: `npm start`, read the printed URLs, use them. */

let child: ChildProcess | undefined;
afterAll(async () => {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
});

async function printedUrls(proc: ChildProcess): Promise<{ graphiql: string; emulator: string }> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URLs printed within 20 s:\n${out}`)), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const graphiql = /GraphiQL: (http:\S+)/.exec(out)?.[1];
      const emulator = /Prove emulator[^:]*: (http:\S+)/.exec(out)?.[1];
      if (graphiql && emulator) {
        clearTimeout(timer);
        resolve({ graphiql, emulator });
      }
    });
    proc.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
}

describe('npm start', () => {
  it('prints the GraphiQL and emulator URLs, and a whole MOBILE flow works through them', async () => {
    child = spawn('npm', ['start'], {
      cwd: new URL('../..', import.meta.url).pathname,
      // Own process group, so the whole tree (npm, tsx, node) stops by the one pid.
      detached: true,
      env: { ...process.env, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'warn', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { graphiql, emulator } = await printedUrls(child);

    const page = await fetch(graphiql, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('GraphiQL');

    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(graphiql, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data: Record<string, any> };
    };
    const started = await gql(
      'mutation($i: StartUnifyInput!) { startUnify(input: $i) { ... on StartUnifyPayload { authToken flow { id state } } } }',
      { i: { possessionType: 'MOBILE', phoneNumber: '2001004014' } },
    );
    const { authToken, flow } = started.data.startUnify;
    expect(flow.state).toBe('PENDING');
    expect((await emulatorClient(emulator).authenticate({ authToken, otp: '1234' })).result).toBe('finished');
    const status = await gql('query($id: ID!) { unifyStatus(flowId: $id) { ... on UnifyStatusPayload { flow { state deviceId } } } }', { id: flow.id });
    expect(status.data.unifyStatus.flow.state).toBe('VERIFIED');
    expect(status.data.unifyStatus.flow.deviceId).toBeTruthy();
  });
});
