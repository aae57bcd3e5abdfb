import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GraphQLError } from 'graphql';
import { badRequest } from '../security/request-bounds.js';

/**
 * Trusted documents: the operations our clients were built with, by id. GraphQL Code Generator's
 * client preset writes them as a manifest (`persisted-documents.json`, `{ "sha256:<hex>": text }`,
 * codegen.ts); TRUSTED_DOCUMENTS loads one or more. A client may then send a document's id instead
 * of its text, as `documentId` (GraphQL over HTTP's persisted documents) or as the APQ extension
 * `extensions.persistedQuery.sha256Hash`, and TRUSTED_DOCUMENTS_ONLY refuses any text that is not
 * one of them.
 *
 * This module is what every transport shares: reading the id a request names, checking it against
 * the text it may carry, and finding the text. The envelop side (the HTTP params hook and the
 * parse-time gate) is trusted-documents-plugin.ts.
 */

/** `extensions.code` of each refusal (README, Error codes). */
export const TRUSTED_DOCUMENT_ERRORS = {
  /** The id is in no manifest; the message is APQ's "PersistedQueryNotFound", which APQ clients answer by sending the text. */
  notFound: 'PERSISTED_QUERY_NOT_FOUND',
  /** `documentId` or the APQ extension is not a short string (or the APQ version is not 1). */
  invalidId: 'DOCUMENT_ID_INVALID',
  /** An id and a text were both sent, and the text is not that document. */
  mismatch: 'DOCUMENT_ID_MISMATCH',
  /** Neither a text nor an id. */
  required: 'DOCUMENT_REQUIRED',
  /** TRUSTED_DOCUMENTS_ONLY=on and the text is in no manifest. */
  only: 'TRUSTED_DOCUMENTS_ONLY',
} as const;

/** Longer ids are refused before any lookup (a sha256 id is 71 characters with its prefix). */
export const MAX_DOCUMENT_ID_LENGTH = 128;

const SHA256_ID = /^(?:sha256:)?([0-9a-f]{64})$/;

/** The manifest's key for an id: `sha256:<hex>` and a bare `<hex>` (APQ's form) are the same document. */
const canonicalId = (id: string): string => {
  const hex = SHA256_ID.exec(id)?.[1];
  return hex ? `sha256:${hex}` : id;
};

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

export const notFoundError = (): GraphQLError => badRequest('PersistedQueryNotFound', TRUSTED_DOCUMENT_ERRORS.notFound);
export const documentRequiredError = (): GraphQLError =>
  badRequest('Send a GraphQL document: "query" with its text, or "documentId" with its trusted document id', TRUSTED_DOCUMENT_ERRORS.required);
export const onlyTrustedError = (): GraphQLError =>
  badRequest('This gateway runs only trusted documents: send the "documentId" of an operation from its manifest', TRUSTED_DOCUMENT_ERRORS.only);
const SHORT_STRING = `a string of 1 to ${MAX_DOCUMENT_ID_LENGTH} characters`;
const invalidIdError = (message: string): GraphQLError => badRequest(message, TRUSTED_DOCUMENT_ERRORS.invalidId);
const mismatchError = (): GraphQLError =>
  badRequest('The "query" sent is not the document its id names: send one of them, or both matching', TRUSTED_DOCUMENT_ERRORS.mismatch);

/** The documents of one or more manifests: their texts by id, and the set of texts. */
export class TrustedDocuments {
  readonly #byId = new Map<string, string>();
  readonly #texts = new Set<string>();

  constructor(entries: Iterable<readonly [id: string, text: string]> = []) {
    for (const [id, text] of entries) {
      this.#byId.set(canonicalId(id), text);
      this.#texts.add(text);
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  textOf(id: string): string | undefined {
    return this.#byId.get(canonicalId(id));
  }

  /** Whether this exact text is a trusted document (the same text, byte for byte, as its manifest holds). */
  has(text: string): boolean {
    return this.#texts.has(text);
  }

  /** Whether `text` is the document `id` names: the manifest's text, or for an id not in it, a sha256 id of this text. */
  matches(id: string, text: string): boolean {
    const known = this.textOf(id);
    if (known !== undefined) return known === text;
    const hex = SHA256_ID.exec(id)?.[1];
    return hex !== undefined && sha256Hex(text) === hex;
  }
}

/**
 * Reads manifests (JSON objects of id -> document text) into one set of trusted documents. Throws
 * an Error whose message names the file and what is wrong with it (config.ts reports it against
 * TRUSTED_DOCUMENTS): a manifest that cannot be read is never taken for an empty one.
 */
export function loadTrustedDocuments(paths: readonly string[]): TrustedDocuments {
  const entries: [string, string][] = [];
  for (const path of paths) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      throw new Error(`${path}: not a manifest (a JSON object of document id -> document text)`);
    }
    for (const [id, text] of Object.entries(manifest)) {
      if (typeof text !== 'string' || text === '') throw new Error(`${path}: the document of "${id.slice(0, 80)}" is not a non-empty string`);
      if (id === '' || id.length > MAX_DOCUMENT_ID_LENGTH) throw new Error(`${path}: an id is empty or longer than ${MAX_DOCUMENT_ID_LENGTH} characters`);
      const hex = SHA256_ID.exec(id)?.[1];
      if (hex !== undefined && sha256Hex(text) !== hex) throw new Error(`${path}: "${id}" is not the sha256 of its document (an edited manifest?)`);
      entries.push([id, text]);
    }
  }
  return new TrustedDocuments(entries);
}

/** The operation parameters that may name a document (HTTP body or query string, SSE, graphql-ws subscribe). */
export interface DocumentParams {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

const isShortString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_DOCUMENT_ID_LENGTH;

/**
 * The document id a request names, from `documentId` or the APQ extension
 * (`extensions.persistedQuery: { version: 1, sha256Hash }`), or undefined when it names none.
 * Throws a typed 400 for an id that is not a short string, an APQ extension that is not version 1
 * with a sha256 hash, or two ids that differ.
 */
export function documentIdOf(params: DocumentParams): string | undefined {
  const { documentId, extensions } = params;
  if (documentId !== undefined && documentId !== null && !isShortString(documentId)) throw invalidIdError(`"documentId" must be ${SHORT_STRING}`);
  const persisted = typeof extensions === 'object' && extensions !== null ? (extensions as { persistedQuery?: unknown }).persistedQuery : undefined;
  let hash: string | undefined;
  if (persisted !== undefined && persisted !== null) {
    const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
    if (typeof persisted !== 'object' || version !== 1 || !isShortString(sha256Hash)) {
      throw invalidIdError(`"extensions.persistedQuery" must be { "version": 1, "sha256Hash": ${SHORT_STRING} }`);
    }
    hash = sha256Hash;
  }
  const id = (documentId as string | undefined | null) ?? undefined;
  if (id !== undefined && hash !== undefined && canonicalId(id) !== canonicalId(hash)) throw mismatchError();
  return id ?? hash;
}

/**
 * When a request sends both an id and a text, the text must be that document: otherwise a client
 * could name a trusted id and have another text run. Throws DOCUMENT_ID_MISMATCH.
 */
export function checkIdMatchesText(documents: TrustedDocuments, id: string, text: string): void {
  if (!documents.matches(id, text)) throw mismatchError();
}

/**
 * The text to parse for a request, for the operation runner (src/graphql/operation.ts: graphql-ws,
 * the plain JSON transport); yoga's HTTP path does the same in its params
 * hook (trusted-documents-plugin.ts). A text is returned as it is (once checked against an id sent
 * with it); an id alone is looked up. Whether a text may run at all (TRUSTED_DOCUMENTS_ONLY) is
 * decided at parse time, by the gate every transport shares. Throws a typed GraphQLError (400).
 */
export function resolveDocument(documents: TrustedDocuments, params: DocumentParams): string {
  const id = documentIdOf(params);
  const { query } = params;
  if (typeof query === 'string' && query !== '') {
    if (id !== undefined) checkIdMatchesText(documents, id, query);
    return query;
  }
  if (id === undefined) throw documentRequiredError();
  const text = documents.textOf(id);
  if (text === undefined) throw notFoundError();
  return text;
}
