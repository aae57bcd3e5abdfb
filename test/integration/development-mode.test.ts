import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { developmentDefaults } from '../../src/app/development.js';
import { emulatorClient, startGateway } from '../support/gateway.js';
import { bind, started, status } from '../support/flows.js';

/**
 * `npm start` in development gets out of the way: a development API key printed in the banner (so
 * bindPhone works at once), and send limits loose enough to try the sandbox numbers again and again.
 * Never in production, and never over what a variable sets.
 */

const root = new URL('../..', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // gone
    }
  }
});

/** `npm start` with the given variables (none of ours inherited); resolves with its banner once it listens. */
async function npmStart(env: Record<string, string>): Promise<string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(GATEWAY_|START_LIMIT_|PROVE_|NODE_ENV)/.test(name)));
  const child = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { ...inherited, PORT: '0', LOG_LEVEL: 'warn', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not finish its banner within 30 s:\n${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // The banner is one write: the chunk that holds its first line holds all of it.
      if (/listening at/.test(out) && out.endsWith('\n')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
}

const post = async (url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return ((await res.json()) as { data: Record<string, any> }).data;
};
const START = 'mutation($i: StartUnifyInput!) { startUnify(input: $i) { __typename ... on StartUnifyPayload { authToken flow { id } } ... on Error { code message } } }';
const STATUS = 'query($id: ID!) { unifyStatus(flowId: $id) { __typename ... on UnifyStatusPayload { flow { state } } } }';
const BIND = 'mutation($i: BindPhoneInput!) { bindPhone(input: $i) { __typename ... on BindPhonePayload { flow { state } } ... on Error { code message } } }';

describe('npm start in development', () => {
  it('prints a development API key that bindPhone accepts, and lets a walkthrough start one number again and again', async () => {
    const banner = await npmStart({});
    const key = /Development API key[^:]*: (dev-\S+)/.exec(banner)?.[1];
    expect(key).toBeTruthy();
    expect(banner).toMatch(/Development send limits with the emulator: 20\/1m per number and address, 100\/1m per address/);
    // The README shows this banner as printed (its port and key aside).
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const shown = /`npm start` prints:\n\n```\n([\s\S]*?)```/.exec(readme)![1]!;
    const printed = banner.split('\n').filter((line) => line && !line.startsWith('>')).join('\n')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:4000').replace(/dev-[\w-]+/g, 'dev-…');
    expect(`${printed}\n`).toBe(shown);
    const graphql = /GraphQL endpoint[^:]*: (http:\S+)/.exec(banner)![1]!;
    const sim = emulatorClient(/Prove emulator[^:]*: (http:\S+)/.exec(banner)![1]!);

    // Six starts of one number within the minute: the production default (3/10m) refuses the fourth.
    const starts = [];
    for (let i = 0; i < 6; i++) starts.push((await post(graphql, START, { i: { possessionType: 'NONE', phoneNumber: '2001004015' } })).startUnify);
    expect(starts.map((s) => s.__typename)).toEqual(Array(6).fill('StartUnifyPayload'));

    const { authToken, flow } = starts[5];
    await sim.authenticate({ authToken });
    expect((await post(graphql, STATUS, { id: flow.id })).unifyStatus.flow.state).toBe('POSSESSION_REQUIRED');
    const input = { i: { flowId: flow.id, phoneNumber: '2001004015' } };
    expect((await post(graphql, BIND, input)).bindPhone).toMatchObject({ __typename: 'NotAuthorizedError' });
    expect((await post(graphql, BIND, input, { authorization: `Bearer ${key}` })).bindPhone).toEqual({ __typename: 'BindPhonePayload', flow: { state: 'BOUND' } });
  });

  it('makes no key and keeps the limits in production', async () => {
    const banner = await npmStart({ NODE_ENV: 'production', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret', PROVE_BASE_URL: 'http://127.0.0.1:9' });
    expect(banner).toContain('listening at');
    expect(banner).not.toMatch(/Development|dev-/);
  });
});

describe('developmentDefaults', () => {
  const dev = (env: Record<string, string>) => developmentDefaults(loadConfig(env), env);

  it('never in production or test; never over a variable that is set', () => {
    const prod = { NODE_ENV: 'production', PROVE_ENV: 'uat-us', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret' };
    expect(dev(prod)).toEqual({ config: loadConfig(prod), relaxedLimits: false });
    expect(dev({ NODE_ENV: 'test' }).apiKey).toBeUndefined();

    const keyed = dev({ GATEWAY_API_KEYS: 'my-own-key-0123456789', START_LIMIT_PER_NUMBER: '3/10m' });
    expect(keyed.apiKey).toBeUndefined();
    expect(keyed.config.apiKeys).toEqual(['my-own-key-0123456789']);
    expect(keyed.config.startLimitPerNumber).toEqual({ count: 3, windowMs: 600_000 });
    expect(keyed.config.startLimitPerAddress).toEqual({ count: 100, windowMs: 60_000 });

    // Real Prove credentials (a sandbox): a key for this run, but Prove's own limits are not ours to loosen.
    const remote = dev({ PROVE_ENV: 'uat-us', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret' });
    expect(remote.apiKey).toMatch(/^dev-[A-Za-z0-9_-]{24}$/);
    expect(remote.config.startLimitPerNumber).toEqual({ count: 3, windowMs: 600_000 });
    expect(remote.relaxedLimits).toBe(false);
    // A new key every run: nothing guessable.
    expect(dev({}).apiKey).not.toBe(dev({}).apiKey);
  });
});

describe('NotAuthorizedError', () => {
  it('says that no API keys are configured when there are none', async () => {
    const gw = await startGateway({ GATEWAY_API_KEYS: '' });
    try {
      const { flow, authToken } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004015' });
      await gw.sim.authenticate({ authToken });
      await status(gw, flow.id);
      const refused = await bind(gw, flow.id, '2001004015');
      expect(refused).toMatchObject({ __typename: 'NotAuthorizedError', code: 'NOT_AUTHORIZED' });
      expect((refused as { message: string }).message).toMatch(/no API keys: set GATEWAY_API_KEYS/);
    } finally {
      await gw.close();
    }
  });

  it('asks for a key, without that hint, when keys exist', async () => {
    const gw = await startGateway();
    try {
      const { flow } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004015' });
      const refused = await bind(gw, flow.id, '2001004015');
      expect(refused).toMatchObject({ __typename: 'NotAuthorizedError', message: 'This operation needs a trusted caller (Authorization: Bearer <api key>)' });
    } finally {
      await gw.close();
    }
  });
});
