import { describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.js';
import { loadConfig } from '../../src/config.js';
import { retryDelayMs } from '../../src/webhooks/schedule.js';
import { WEBHOOK_DEFAULTS } from '../../src/webhooks/config.js';
import { newSecret } from './receiver.js';


const PRODUCTION = { NODE_ENV: 'production', PROVE_ENV: 'prod-us', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b' };

describe('webhook configuration', () => {
  it('off unless configured; on with URLs, secrets and the default schedule', () => {
    expect(loadConfig({}).webhooks).toBeUndefined();
    const secret = newSecret();
    const config = loadConfig({ WEBHOOK_URL: 'https://a.example.com/hooks, http://127.0.0.1:9/x', WEBHOOK_SECRET: secret });
    expect(config.webhooks).toEqual({
      urls: ['https://a.example.com/hooks', 'http://127.0.0.1:9/x'],
      secrets: [secret],
      timeoutMs: 10_000,
      retry: { firstDelayMs: 5_000, maxDelayMs: 3_600_000, forMs: 86_400_000 },
      concurrency: 16,
    });
  });

  it('each problem stops the start, naming the variable', () => {
    expect(problemsOf({ WEBHOOK_URL: 'https://a.example.com' })).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: is required/)]);
    expect(problemsOf({ WEBHOOK_SECRET: newSecret() })).toEqual([expect.stringMatching(/^WEBHOOK_URL: is required/)]);
    expect(problemsOf({ WEBHOOK_URL: 'https://a.example.com', WEBHOOK_SECRET: 'hunter2' })[0]).toMatch(/^WEBHOOK_SECRET: every secret must be whsec_/);
    expect(problemsOf({ WEBHOOK_URL: 'https://a.example.com', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })[0]).toMatch(/^WEBHOOK_SECRET:/);
    expect(problemsOf({ WEBHOOK_URL: 'ftp://a.example.com', WEBHOOK_SECRET: newSecret() })[0]).toMatch(/^WEBHOOK_URL: .* must be an absolute http\(s\) URL/);
    expect(problemsOf({ WEBHOOK_URL: 'https://a.example.com', WEBHOOK_SECRET: newSecret(), WEBHOOK_TIMEOUT: 'soon' })[0]).toMatch(/^WEBHOOK_TIMEOUT:/);
    expect(problemsOf({ WEBHOOK_URL: 'https://a.example.com', WEBHOOK_SECRET: newSecret(), WEBHOOK_RETRY_DELAY: '1h', WEBHOOK_RETRY_MAX_DELAY: '1m' })[0]).toMatch(/^WEBHOOK_RETRY_MAX_DELAY:/);
    expect(problemsOf({ WEBHOOK_URLS: 'https://a.example.com' })[0]).toMatch(/^WEBHOOK_URLS: is not a setting/);
  });

  it('production takes https only, unless http is explicitly allowed; a URL in an error shows its origin only', () => {
    const env = { ...PRODUCTION, WEBHOOK_URL: 'http://backend.internal/hooks?token=s3cret', WEBHOOK_SECRET: newSecret() };
    const problems = problemsOf(env);
    expect(problems).toEqual([expect.stringMatching(/^WEBHOOK_URL: "http:\/\/backend.internal" must be https in production/)]);
    expect(problems.join()).not.toContain('s3cret');
    expect(loadConfig({ ...env, WEBHOOK_ALLOW_HTTP: 'on' }).webhooks?.urls).toEqual(['http://backend.internal/hooks?token=s3cret']);
    expect(loadConfig({ ...env, WEBHOOK_URL: 'https://backend.example.com/hooks' }).webhooks).toBeDefined();
  });

  it('the default schedule doubles from 5 s to an hour, with jitter, and keeps retrying for a day', () => {
    const { retry } = WEBHOOK_DEFAULTS;
    const low = (n: number) => retryDelayMs(n, retry, () => 0);
    const high = (n: number) => retryDelayMs(n, retry, () => 1);
    expect([1, 2, 3].map(high)).toEqual([5_000, 10_000, 20_000]);
    expect([1, 2, 3].map(low)).toEqual([2_500, 5_000, 10_000]);
    expect(high(30)).toBe(3_600_000);
    // Even with the shortest draws, a day of retries is dozens of attempts, not a handful.
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < retry.forMs) elapsed += low(++attempts);
    expect(attempts).toBeGreaterThan(40);
  });
});
