import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents, one set per consumer: edit the .graphql files, run `npm run codegen`.
// - test/documents -> test/generated: the tests (and any TypeScript client), as document ASTs.
// - src/ui/page -> src/ui/page/generated: the status page, as typed strings (no graphql runtime in the browser bundle).
// - examples/urql -> examples/urql/generated: the README's urql example (its own codegen.ts is what a user's project runs).
// emitLegacyCommonJSImports: false writes the .js suffix NodeNext resolution wants on relative imports.
const shared = { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/': {
      documents: ['test/documents/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...shared, emitLegacyCommonJSImports: false },
    },
    'src/ui/page/generated/': {
      documents: ['src/ui/page/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...shared, documentMode: 'string', emitLegacyCommonJSImports: false },
    },
    'examples/urql/generated/': {
      documents: ['examples/urql/operations.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...shared, emitLegacyCommonJSImports: false },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
