import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/flows/errors.js';

/** What the README says about errors and the first operations is true of the schema. */

describe('README error codes', () => {
  it('has one row per ErrorCode', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('## Error codes');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| `(\w+)`/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe('README: A whole flow', () => {
  it('its operations are valid against the schema, and the 9101 case selects the flow state its text names', async () => {
    const { buildSchema, parse, validate } = await import('graphql');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## A whole flow'));
    const block = /```graphql\n([\s\S]*?)```/.exec(section)![1]!;
    const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    expect(validate(schema, parse(block)).map((e) => e.message)).toEqual([]);
    expect(block).toMatch(/ProveKeyMismatchError \{ upstreamCode rebindRequired flow \{ state \} \}/);
  });
});
