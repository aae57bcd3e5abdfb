import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents, one set per consumer: edit the .graphql files, run `npm run codegen`.
// - test/documents -> test/generated: the tests (and any TypeScript client), as document ASTs.
// - src/ui/page -> src/ui/page/generated: the status page, as typed strings (no graphql runtime in the browser bundle).
// - examples/urql -> examples/urql/generated: the README's urql example (its own codegen.ts is what a user's project runs).
// emitLegacyCommonJSImports: false writes the .js suffix NodeNext resolution wants on relative imports.
// persisted-documents.json beside each output: the trusted documents manifest (id -> text) that
// TRUSTED_DOCUMENTS loads. sha256 of the text, so an id is also the APQ extension's sha256Hash.
const persistedDocuments = { hashAlgorithm: 'sha256' as const };
const shared = { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/': {
      documents: ['test/documents/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments },
      config: { ...shared, emitLegacyCommonJSImports: false },
    },
    'src/ui/page/generated/': {
      documents: ['src/ui/page/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments },
      config: { ...shared, documentMode: 'string', emitLegacyCommonJSImports: false },
    },
    'examples/urql/generated/': {
      documents: ['examples/urql/operations.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments },
      config: { ...shared, emitLegacyCommonJSImports: false },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
