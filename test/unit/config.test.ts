import { describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.js';
import { loadConfig, parseLimit } from '../../src/config.js';


describe('configuration', () => {
  it('defaults to the embedded emulator in development', () => {
    const config = loadConfig({});
    expect(config.prove.mode).toBe('emulator');
    expect(config.port).toBe(4000);
    expect(config.startLimitPerNumber).toEqual({ count: 3, windowMs: 600_000 });
    expect(config.startLimitPerAddress).toEqual({ count: 20, windowMs: 60_000 });
    expect(config.proveRateLimit).toBe(25);
  });

  it('production without credentials refuses to start', () => {
    expect(problemsOf({ NODE_ENV: 'production' })[0]).toMatch(/^PROVE_CLIENT_ID: production mode needs Prove credentials/);
  });

  it('credentials need an explicit server (never the SDK\'s silent sandbox default)', () => {
    expect(problemsOf({ PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b' })[0]).toMatch(/^PROVE_ENV:/);
    const config = loadConfig({ PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b', PROVE_ENV: 'prod-eu' });
    expect(config.prove).toMatchObject({ mode: 'remote', serverURL: 'https://platform.eu.proveapis.com', sandbox: false });
  });

  it('names every bad variable, one line each', () => {
    const problems = problemsOf({
      PORT: 'eighty', PROVE_ENV: 'moon', START_LIMIT_PER_NUMBER: '3 per minute', REDIS_URL: 'localhost',
      ALLOWED_COUNTRIES: 'USA', GATEWAY_API_KEYS: 'short', PROVE_CLIENTID: 'typo', FLOW_TTL: 'soon', CORS_ORIGINS: 'example.com',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'ALLOWED_COUNTRIES', 'CORS_ORIGINS', 'FLOW_TTL', 'GATEWAY_API_KEYS', 'PORT', 'PROVE_CLIENTID', 'PROVE_ENV',
      'REDIS_URL', 'START_LIMIT_PER_NUMBER',
    ]);
  });

  it('REDIS_CLUSTER=on takes REDIS_URL as seed nodes, comma-separated; off, one URL', () => {
    const seeds = 'redis://10.0.0.1:6379,redis://10.0.0.2:6379';
    expect(loadConfig({ REDIS_CLUSTER: 'on', REDIS_URL: seeds })).toMatchObject({ redisCluster: true, redisUrl: seeds });
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ redisCluster: false });
    expect(problemsOf({ REDIS_URL: seeds })[0]).toMatch(/^REDIS_URL: .*REDIS_CLUSTER=on/);
    expect(problemsOf({ REDIS_CLUSTER: 'on' })[0]).toMatch(/^REDIS_CLUSTER: needs REDIS_URL/);
    expect(problemsOf({ REDIS_CLUSTER: 'yes', REDIS_URL: seeds }).map((p) => p.split(':')[0])).toContain('REDIS_CLUSTER');
    expect(problemsOf({ REDIS_CLUSTER: 'on', REDIS_URL: 'redis://a:1,b:2' })[0]).toMatch(/^REDIS_URL: must start with redis:\/\//);
  });

  it('parses limits like 3/10m', () => {
    expect(parseLimit('3/10m')).toEqual({ count: 3, windowMs: 600_000 });
    expect(parseLimit('20/1m')).toEqual({ count: 20, windowMs: 60_000 });
    expect(parseLimit('0/1m')).toBeUndefined();
    expect(parseLimit('3')).toBeUndefined();
  });

  it('PROVE_TIMEOUT: 5 s by default, a duration from 100ms to 60s', () => {
    expect(loadConfig({}).proveTimeoutMs).toBe(5_000);
    expect(loadConfig({ PROVE_TIMEOUT: '12s' }).proveTimeoutMs).toBe(12_000);
    for (const bad of ['0ms', '2m', 'soon']) expect(problemsOf({ PROVE_TIMEOUT: bad })[0]).toMatch(/^PROVE_TIMEOUT:/);
  });

  it('a flow cannot outlive Prove\'s 15-minute correlation id', () => {
    expect(problemsOf({ FLOW_TTL: '16m' })[0]).toMatch(/^FLOW_TTL:/);
    expect(loadConfig({ FLOW_TTL: '900s' }).flowTtlMs).toBe(900_000);
  });

  it('Instant Link origins are compared as URL writes them', () => {
    expect(loadConfig({ FINAL_TARGET_ORIGINS: 'https://Shop.Example.com:443' }).finalTargetOrigins).toEqual(['https://shop.example.com']);
  });

  it('a misspelt security setting stops the start', () => {
    expect(problemsOf({ FINAL_TARGET_ORIGIN: 'https://a.example' })[0]).toMatch(/^FINAL_TARGET_ORIGIN:/);
    expect(problemsOf({ CORS_ORIGIN: 'https://a.example' })[0]).toMatch(/^CORS_ORIGIN:/);
  });
});
