/**
 * Turning whatever came back (or did not) into one ProveError, keyed on the HTTP status as
 * prove-api.md advises; Prove's numeric `code` is kept as information only.
 */
import type { ZodError } from 'zod';
import { ErrorBodySchema } from './schemas.js';
import { ProveError } from './types.js';

/** What the transport captured for one HTTP exchange. */
export interface RawResponse {
  status: number;
  retryAfter: string | null;
  text: string;
}

/** Removes secrets from text that may end up in an error message or a log line. */
export type Redactor = (text: string) => string;

const MAX_MESSAGE = 300;

/**
 * Masks what must never be shown: the given secrets (client secret, access tokens), anything
 * JWT-shaped (authTokens), bearer credentials, and phone-number-like digit runs (all but the last 4).
 */
export function createRedactor(secrets: () => Iterable<string>): Redactor {
  return (text) => {
    let out = text;
    for (const secret of secrets()) {
      if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    out = out
      .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted]')
      .replace(/\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
      .replace(/\+?\d(?:[\s().-]?\d){6,}/g, (run) => `***${run.replace(/\D/g, '').slice(-4)}`);
    return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
  };
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * The request field a Prove message talks about, if any: "phoneNumber", "phone number" and
 * "phone_number" all count. The earliest mention wins.
 */
export function fieldNamedIn(message: string, fields: readonly string[]): string | undefined {
  let best: { field: string; index: number } | undefined;
  for (const field of fields) {
    const words = field.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/);
    const pattern = new RegExp(`(?<![A-Za-z0-9])${words.join('[\\s_-]?')}(?![A-Za-z0-9])`, 'i');
    const match = pattern.exec(message);
    if (match && (best === undefined || match.index < best.index)) best = { field, index: match.index };
  }
  return best?.field;
}

function readErrorBody(text: string): { code?: number; message?: string } {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** A non-2xx answer from an API endpoint or /token, classified by status. */
export function errorFromStatus(
  endpoint: string,
  response: RawResponse,
  fields: readonly string[],
  redact: Redactor,
): ProveError {
  const { status } = response;
  const body = readErrorBody(response.text);
  const proveMessage = body.message === undefined ? '' : `: ${redact(body.message)}`;
  const code = body.code === undefined ? '' : `, code ${body.code}`;
  const common = { endpoint, status, proveCode: body.code };

  if (status === 400 || status === 413 || status === 422) {
    const field = body.message === undefined ? undefined : fieldNamedIn(body.message, fields);
    return new ProveError({
      ...common,
      kind: 'invalid_request',
      field,
      message: `Prove ${endpoint} refused the request (${status}${code})${proveMessage}`,
    });
  }
  if (status === 401 || status === 403) {
    return new ProveError({
      ...common,
      kind: 'unauthorized',
      message: `Prove ${endpoint} refused our credentials (${status}${code})${proveMessage}`,
    });
  }
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(response.retryAfter);
    return new ProveError({
      ...common,
      kind: 'rate_limited',
      retryAfterSeconds,
      message: `Prove ${endpoint} is rate limiting us (429${retryAfterSeconds === undefined ? '' : `, retry after ${retryAfterSeconds}s`})`,
    });
  }
  return new ProveError({
    ...common,
    kind: 'unavailable',
    message: `Prove ${endpoint} is unavailable (${status}${code})${proveMessage}`,
  });
}

/** A 2xx whose body we could not read: Prove (or something in front of it) is not speaking its format. */
export function unreadableBody(endpoint: string, status: number, detail: string): ProveError {
  return new ProveError({
    kind: 'unavailable',
    endpoint,
    status,
    message: `Prove ${endpoint} answered ${status} with a body we cannot read (${detail})`,
  });
}

/** Our own validation refused the request before it was sent. */
export function invalidRequest(endpoint: string, error: ZodError): ProveError {
  const issue = error.issues[0];
  const field = issue?.path.length ? String(issue.path[0]) : undefined;
  return new ProveError({
    kind: 'invalid_request',
    endpoint,
    field,
    // zod messages name the field and the rule, never the value.
    message: `Invalid ${endpoint} request${field ? ` (${field})` : ''}: ${issue?.message ?? 'invalid'}`,
  });
}

export function timeoutError(endpoint: string, timeoutMs: number, cause?: unknown): ProveError {
  return new ProveError({
    kind: 'timeout',
    endpoint,
    message: `Prove ${endpoint} did not answer within ${timeoutMs} ms`,
    cause,
  });
}

export function networkError(endpoint: string, cause: unknown): ProveError {
  return new ProveError({
    kind: 'network',
    endpoint,
    message: `Could not reach Prove ${endpoint}: ${describeCause(cause)}`,
    cause,
  });
}

/** The innermost low-level reason (ECONNREFUSED, "other side closed", …), without URLs or bodies. */
function describeCause(err: unknown): string {
  let current: unknown = err;
  let description = 'connection failed';
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    description = typeof code === 'string' ? code : current.message;
    current = current.cause;
  }
  return description.slice(0, 120);
}
