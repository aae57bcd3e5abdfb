/**
 * Prove's error vocabulary. Every error body the emulator sends is `{ code, message }`, because
 * that is the only shape Prove documents and the gateway must cope with nothing richer.
 */

export const Codes = {
  internal: 8000,
  malformed: 8001,
  unauthorized: 8002,
  outOfOrder: 8003,
  noTestUser: 8007,
  badCorrelationId: 8008,
  /** "Identity Not Found": /v3/device/revoke for a deviceId Prove does not know. */
  notFound: 8011,
} as const;

/** Thrown anywhere below the router; the router turns it into one JSON response. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const malformed = (message: string): ApiError => new ApiError(400, Codes.malformed, message);
export const unauthorized = (message: string): ApiError => new ApiError(401, Codes.unauthorized, message);
export const outOfOrder = (): ApiError => new ApiError(400, Codes.outOfOrder, 'step out of order');
export const badCorrelationId = (message = 'invalid correlation id'): ApiError =>
  new ApiError(400, Codes.badCorrelationId, message);
