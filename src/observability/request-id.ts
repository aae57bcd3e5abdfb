import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What we accept from a client as its request id: the characters of UUIDs, ULIDs and the ids
 * proxies make (Heroku, nginx $request_id, AWS X-Amzn-Trace-Id), and no more than 128 of them.
 * Anything else (spaces, quotes, newlines, a multi-kilobyte value) could forge or bloat log lines,
 * so it is replaced, not cleaned.
 */
const WELL_FORMED = /^[A-Za-z0-9._:=;/-]{1,128}$/;

/**
 * A new UUID as one flat string. randomUUID() assembles its text piece by piece, which V8 keeps
 * as a tree of string pieces (~0.4 KiB instead of ~60 bytes); an operation's id is kept as long
 * as its log, and a graphql-ws subscription (one per open status page) keeps it for hours.
 */
const newRequestId = (): string => Buffer.from(randomUUID(), 'latin1').toString('latin1');

/** The client's x-request-id when well-formed, otherwise a new UUID. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && value !== null && WELL_FORMED.test(value) ? value : newRequestId();
}

/** The request's id, taken or made, echoed on the response before anything else is written. */
export function takeRequestId(req: IncomingMessage, res: ServerResponse): string {
  const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  return requestId;
}
