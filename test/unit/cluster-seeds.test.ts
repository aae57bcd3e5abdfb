import { describe, expect, it } from 'vitest';
import { clusterSeeds } from '../../src/store/redis-client.js';

/** REDIS_URL with REDIS_CLUSTER=on: the seed nodes, and the credentials and TLS every node shares. */
describe('cluster seeds from REDIS_URL', () => {
  it('one seed, port 6379 by default', () => {
    expect(clusterSeeds('redis://10.0.0.1')).toEqual({ nodes: [{ host: '10.0.0.1', port: 6379 }], redisOptions: {} });
  });

  it('several seeds, comma-separated (spaces allowed), credentials and TLS from the first', () => {
    expect(clusterSeeds('rediss://app:p%40ss@a.example:7000, rediss://b.example:7001')).toEqual({
      nodes: [{ host: 'a.example', port: 7000 }, { host: 'b.example', port: 7001 }],
      redisOptions: { username: 'app', password: 'p@ss', tls: {} },
    });
  });

  it('IPv6 addresses lose their brackets; a password alone is the default user', () => {
    expect(clusterSeeds('redis://:secret@[::1]:7100')).toEqual({ nodes: [{ host: '::1', port: 7100 }], redisOptions: { password: 'secret' } });
  });
});
