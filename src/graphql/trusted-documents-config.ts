import { loadTrustedDocuments, TrustedDocuments } from './trusted-documents.js';
import type { TrustedDocumentsOptions } from './trusted-documents-plugin.js';

export const TRUSTED_DOCUMENTS_VARIABLES = ['TRUSTED_DOCUMENTS', 'TRUSTED_DOCUMENTS_ONLY'] as const;

/**
 * TRUSTED_DOCUMENTS (comma-separated manifest paths) and TRUSTED_DOCUMENTS_ONLY (on|off). The
 * manifests are read here, at start: a missing or malformed one stops the start naming the
 * variable, rather than every id being "not found" later. Unset: no documents, texts only.
 */
export function readTrustedDocumentsConfig(env: NodeJS.ProcessEnv, bad: (name: string, why: string) => void): TrustedDocumentsOptions {
  const paths = (env.TRUSTED_DOCUMENTS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const onlyText = env.TRUSTED_DOCUMENTS_ONLY || 'off';
  if (onlyText !== 'on' && onlyText !== 'off') bad('TRUSTED_DOCUMENTS_ONLY', `must be on or off, got "${onlyText}"`);
  const only = onlyText === 'on';
  if (only && paths.length === 0) bad('TRUSTED_DOCUMENTS_ONLY', 'on needs TRUSTED_DOCUMENTS (the manifests whose documents are allowed)');
  try {
    const documents = loadTrustedDocuments(paths);
    if (paths.length > 0 && documents.size === 0) bad('TRUSTED_DOCUMENTS', 'the manifests hold no documents');
    return { documents, only };
  } catch (error) {
    bad('TRUSTED_DOCUMENTS', (error as Error).message);
    return { documents: new TrustedDocuments(), only };
  }
}
