import type { CodegenConfig } from '@graphql-codegen/cli';

// In your project: `npm i -D @graphql-codegen/cli @graphql-codegen/client-preset`, then
// `npx graphql-codegen --config codegen.ts` writes ./generated from your operations. The schema
// comes from a running gateway in development (introspection is on outside production), or from a
// copy of the gateway's schema.graphql.
const config: CodegenConfig = {
  schema: process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql',
  documents: ['operations.graphql'],
  generates: {
    './generated/': {
      preset: 'client',
      // persisted-documents.json beside the types: the manifest a gateway loads with TRUSTED_DOCUMENTS.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      // emitLegacyCommonJSImports: false writes the .js suffix NodeNext (ESM) resolution wants.
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' }, emitLegacyCommonJSImports: false },
    },
  },
};

export default config;
