import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate } from '@graphql-codegen/cli';
import { printedSchema } from '../../src/schema/index.js';
import codegenConfig from '../../codegen.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('generated files are current', () => {
  it('schema.graphql is what Pothos prints (run `npm run schema`)', () => {
    expect(read('schema.graphql')).toBe(printedSchema());
  });

  it('the generated documents and trusted documents manifests match the documents and schema (run `npm run codegen`)', async () => {
    const outputs = await generate({ ...codegenConfig, silent: true, cwd: new URL('../..', import.meta.url).pathname }, false);
    expect(outputs.length).toBeGreaterThan(0);
    // The manifests TRUSTED_DOCUMENTS loads are outputs too, so a stale one fails here like any generated file.
    const manifests = outputs.map((o: { filename: string }) => o.filename.replace(/^.*?(?=(test|src|examples)\/)/, '')).filter((f: string) => f.endsWith('persisted-documents.json'));
    expect(manifests.sort()).toEqual(['examples/urql/generated/persisted-documents.json', 'src/ui/page/generated/persisted-documents.json', 'test/generated/persisted-documents.json']);
    for (const { filename, content } of outputs) expect(read(filename), filename).toBe(content);
  }, 60_000);

  it('keeps the contract names', () => {
    const schema = printedSchema();
    for (const name of [
      'union StartUnifyResult = ', 'union UnifyStatusResult = ', 'union BindPhoneResult = ', 'interface Error',
      'type ProveKeyMismatchError implements Error', 'startUnify(input: StartUnifyInput!): StartUnifyResult!',
      'unifyStatus(flowId: ID!): UnifyStatusResult!', 'flow(id: ID!): UnifyFlow', 'bindPhone(input: BindPhoneInput!): BindPhoneResult!',
    ]) {
      expect(schema).toContain(name);
    }
  });
});
