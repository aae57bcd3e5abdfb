import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';

/**
 * examples/ run as written against a real gateway, and the README shows exactly their code: a
 * newcomer who copies the README gets what this test runs.
 */

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
const EXAMPLES = ['examples/watch-flow.mjs', 'examples/urql/client.ts', 'examples/urql/operations.graphql', 'examples/urql/codegen.ts', 'examples/curl-walkthrough.sh'];

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const example = async (command: string, args: string[], env: Record<string, string> = {}) => {
  const { stdout } = await run(command, args, { cwd: root, env: { ...process.env, GATEWAY_URL: gw.graphqlUrl, ...env }, timeout: 30_000 });
  return stdout.trim().split('\n');
};

describe('examples/ against a real gateway', () => {
  it('watch-flow.mjs: graphql-ws on Node 20 (webSocketImpl), the flow live from PENDING to VERIFIED', async () => {
    expect(await example('node', ['examples/watch-flow.mjs'])).toEqual([
      'started flow, state PENDING', 'live: PENDING', 'device: finished', 'live: VERIFIED',
    ]);
  });

  it('urql/client.ts: typed documents from codegen, GETs with the CSRF header, the subscription over graphql-ws', async () => {
    const lines = await example(process.execPath, ['--import', 'tsx', 'examples/urql/client.ts']);
    expect(lines).toEqual(['live: PENDING', 'status: UnifyStatusPayload', 'live: VERIFIED']);
  });

  it('curl-walkthrough.sh: a NONE flow bound with an API key', async () => {
    expect(await example('sh', ['examples/curl-walkthrough.sh'], { GATEWAY_API_KEY: TEST_API_KEY })).toEqual([
      'started: PENDING', 'device: finished', 'status: POSSESSION_REQUIRED', 'bind: BOUND',
    ]);
  });

  it("a GET without the CSRF header (urql's default) is refused with a message naming the header", async () => {
    const res = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(/x-graphql-yoga-csrf: 1.*POST with Content-Type: application\/json/);
  });
});

describe('the README shows the examples verbatim', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  it.each(EXAMPLES)('%s', (path) => {
    const marker = `<!-- ${path} -->\n`;
    const at = readme.indexOf(marker);
    expect(at, `README has no "${marker.trim()}" before a copy of ${path}`).toBeGreaterThan(0);
    const block = /^```\w*\n([\s\S]*?)^```$/m.exec(readme.slice(at + marker.length));
    expect(block?.[1], `the block after ${marker.trim()} differs from ${path}`).toBe(readFileSync(`${root}${path}`, 'utf8'));
  });
});
