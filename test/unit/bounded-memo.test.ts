import { describe, expect, it } from 'vitest';
import { BoundedMemo, deepFreeze } from '../../src/lib/bounded-memo.js';

describe('BoundedMemo', () => {
  it('makes each input once while remembered, forgets the oldest past max, and keeps only what keep allows', () => {
    const made: string[] = [];
    const memo = new BoundedMemo((input) => (made.push(input), input === 'skip' ? undefined : { input }), 2, (v) => v !== undefined);
    const a = memo.get('a');
    expect(memo.get('a')).toBe(a);
    memo.get('b');
    memo.get('c'); // 'a' is forgotten
    memo.get('skip');
    memo.get('skip'); // never kept: made again
    expect(memo.get('a')).not.toBe(a);
    expect(made).toEqual(['a', 'b', 'c', 'skip', 'skip', 'a']);
  });
});

describe('deepFreeze', () => {
  it('freezes nested values, and leaves a Buffer as it is', () => {
    const value = deepFreeze({ flow: { evaluation: [{ code: 9101 }] }, raw: Buffer.from('x') });
    expect(Object.isFrozen(value.flow.evaluation[0])).toBe(true);
    expect(() => {
      (value.flow.evaluation as unknown[]).push(1);
    }).toThrow(TypeError);
    value.raw[0] = 0x79;
    expect(value.raw.toString()).toBe('y');
  });
});
