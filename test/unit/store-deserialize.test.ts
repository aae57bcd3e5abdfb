import { describe, expect, it } from 'vitest';
import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';
import { deserialize } from '../../src/store/redis-store.js';

/** The store's reads without keyv's reviver must read exactly what keyv's own deserializer reads. */
const values: unknown[] = [
  { value: { id: 'abc', state: 'PENDING', evaluation: [], version: 3, expiresAt: 1763766000000, rebind: false }, expires: 1763766000000 },
  { value: { authToken: ':starts-with-colon', nested: [':a', 'b:', '::c', { d: ':e' }] }, expires: null },
  { value: ':top', expires: 1 },
  ':bare',
  '::double',
  { value: Buffer.from('bytes\0here'), expires: undefined },
  { value: { ':key': 'v', 'k:': ':v', 'a\\': ':x', 'quote"': '":', '': '' }, expires: 2 },
  { value: ['x', ':y', [':z']], expires: 3 },
  { value: 'plain "quoted": text, {":not"} [":a"]', expires: 4 },
  { value: 42 },
  null,
];

describe('store deserialize', () => {
  it.each(values.map((v, i) => [i, v]))('value %i reads as keyv reads it', (_i, value) => {
    const text = defaultSerialize(value);
    expect(deserialize(text)).toEqual(defaultDeserialize(text));
  });
});
