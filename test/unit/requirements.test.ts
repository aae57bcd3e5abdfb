import { afterEach, describe, expect, it, vi } from 'vitest';
import { MissingRequirement, required } from '../support/requirements.js';
import { redisClusterAvailable } from '../support/redis-cluster.js';

/** A missing dependency skips a suite on a laptop, and fails it in CI: green must mean "all ran". */
describe('test requirements', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
    vi.restoreAllMocks();
  });
  const chromium = { what: 'Chromium at /nowhere', fix: 'install it' };

  it('fails in CI instead of skipping', () => {
    process.env.CI = 'true';
    expect(() => required(false, chromium)).toThrow(MissingRequirement);
    expect(() => required(false, chromium)).toThrow(/missing Chromium at \/nowhere: install it/);
  });

  it('fails outside CI when the dependency was promised (REDIS_URL set)', () => {
    delete process.env.CI;
    expect(() => required(false, { ...chromium, promised: true })).toThrow(MissingRequirement);
  });

  it('skips with a reason on a developer machine', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(required(false, chromium)).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/skipping: missing Chromium/));
  });

  it('the Redis Cluster suites fail in CI without REDIS_CLUSTER_URL (.ci/run sets it)', () => {
    process.env.CI = 'true';
    const url = process.env.REDIS_CLUSTER_URL;
    delete process.env.REDIS_CLUSTER_URL;
    try {
      expect(() => redisClusterAvailable()).toThrow(/missing a Redis Cluster named by REDIS_CLUSTER_URL/);
      process.env.REDIS_CLUSTER_URL = 'redis://127.0.0.1:7000';
      expect(redisClusterAvailable()).toBe(true);
    } finally {
      if (url === undefined) delete process.env.REDIS_CLUSTER_URL;
      else process.env.REDIS_CLUSTER_URL = url;
    }
  });

  it('passes when the dependency is there, in CI or not', () => {
    process.env.CI = 'true';
    expect(required(true, chromium)).toBe(true);
  });
});
