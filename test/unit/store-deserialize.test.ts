import { describe, expect, it } from 'vitest';
import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';
import { deserialize, serialize } from '../../src/store/redis-store.js';

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

/** The store's writes must be, byte for byte, what keyv's own serializer writes. */
const written: unknown[] = [
  ...values,
  { value: { id: 'abc', nothing: undefined, list: [1, undefined, null], at: new Date(1763766000000), n: Number.NaN }, expires: 5 },
  { value: { text: 'a "quoted": part, with \\ and \u2028 and \u0000' }, expires: 6 },
  { value: { '"type":"Buffer"': 'looks like a Buffer but is not' }, expires: 7 },
  { value: 1, expires: 8 },
];

describe('store serialize', () => {
  it.each(written.map((v, i) => [i, v]))('value %i is written as keyv writes it', (_i, value) => {
    expect(serialize(value as never)).toBe(defaultSerialize(value));
  });

  it('writes a flow record with one plain JSON.stringify, and reads it back', () => {
    const record = { value: { id: 'abc', authToken: 'x:y', evaluation: [{ code: 1 }], version: 2 }, expires: 9 };
    expect(serialize(record as never)).toBe(JSON.stringify(record));
    expect(deserialize(serialize(record as never) as string)).toEqual(record);
  });
});
