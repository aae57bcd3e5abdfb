import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * A gateway without REDIS_URL loads no Redis client: ioredis and @keyv/redis (with @redis/client)
 * are ~10 MB of a single instance's RSS it never uses. A fresh process, since this test runner
 * has them loaded already; one static import anywhere in the gateway's graph brings them back.
 */

const script = `
  const { createRequire } = await import('node:module');
  const { loadConfig } = await import('./src/config.ts');
  const { createGateway } = await import('./src/app/gateway.ts');
  const gateway = await createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }));
  await fetch(gateway.url + '/ready');
  await gateway.close();
  console.log(JSON.stringify(Object.keys(createRequire(process.cwd() + '/').cache)));
`;

/** The packages of loaded CommonJS files (@keyv/redis itself is ESM; its @redis/client is not). */
const packagesOf = (paths: string[]) =>
  [...new Set(paths.map((path) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(path)?.[1]).filter(Boolean))];

describe('memory mode', () => {
  it('starts, answers and closes without loading ioredis, @keyv/redis or @redis/client', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, REDIS_URL: '' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const packages = packagesOf(JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]);
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.filter((name) => /^(ioredis|@redis\/|@keyv\/redis)/.test(name!))).toEqual([]);
  });
});
