import { describe, expect, it } from 'vitest';
import { randomToken } from '../../src/lib/random-token.js';

describe('randomToken', () => {
  it('gives base64url tokens of the asked length, never the same one twice, across many refills of its batch', () => {
    const tokens = Array.from({ length: 5_000 }, () => randomToken(18));
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('mixes lengths without handing out a byte twice', () => {
    const tokens = Array.from({ length: 2_000 }, (_, i) => randomToken(i % 2 ? 12 : 18));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(randomToken(12)).toHaveLength(16);
    expect(randomToken(5_000)).toHaveLength(Math.ceil((5_000 * 4) / 3));
  });

  it('does not repeat a pattern: each character position takes many values', () => {
    const tokens = Array.from({ length: 500 }, () => randomToken(18));
    for (let at = 0; at < 24; at++) expect(new Set(tokens.map((t) => t[at])).size).toBeGreaterThan(30);
  });
});
