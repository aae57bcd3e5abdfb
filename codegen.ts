import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the tests (and any TypeScript client): edit test/documents/*.graphql, run `npm run codegen`.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/documents/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
