import type { Plugin } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import {
  checkIdMatchesText,
  documentIdOf,
  documentRequiredError,
  notFoundError,
  onlyTrustedError,
  type DocumentParams,
  type TrustedDocuments,
} from './trusted-documents.js';

export interface TrustedDocumentsOptions {
  documents: TrustedDocuments;
  /** TRUSTED_DOCUMENTS_ONLY: refuse every text that is not a trusted document. */
  only: boolean;
}

/**
 * Trusted documents in the envelop pipeline, in two places:
 * - yoga's params hook (HTTP POST and GET, SSE): an id is checked (type, length, against a text
 *   sent with it), then @graphql-yoga/plugin-persisted-operations replaces an id-only request's
 *   params with the manifest's text. Parsing and validating that text then happen once per
 *   document, in yoga's parse and validation caches, like any text.
 * - the parse hook, with TRUSTED_DOCUMENTS_ONLY: the text about to be parsed must be a trusted
 *   document. Every transport runs the pipeline's parse (the operation runner,
 *   src/graphql/operation.ts, resolves ids with resolveDocument first), so this gate holds wherever an operation comes from,
 *   including a transport that forgets to resolve ids: it then has no trusted text to show.
 */
export function useTrustedDocuments({ documents, only }: TrustedDocumentsOptions): Plugin[] {
  const checkParams: Plugin = {
    onParams({ params }) {
      const id = documentIdOf(params as DocumentParams);
      if (id !== undefined && typeof params.query === 'string' && params.query !== '') checkIdMatchesText(documents, id, params.query);
    },
  };
  const byId = usePersistedOperations({
    // Texts are allowed here: whether one may run is the parse gate's decision, for every transport alike.
    allowArbitraryOperations: true,
    extractPersistedOperationId: (params) => documentIdOf(params as DocumentParams) ?? null,
    getPersistedOperation: (id) => documents.textOf(id) ?? null,
    customErrors: { notFound: () => notFoundError(), keyNotFound: () => documentRequiredError() },
  }) as Plugin;
  const gate: Plugin = {
    onParse({ params: { source } }) {
      if (!documents.has(typeof source === 'string' ? source : source.body)) throw onlyTrustedError();
    },
  };
  return only ? [checkParams, byId, gate] : [checkParams, byId];
}
