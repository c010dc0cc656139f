/**
 * One error class for the whole codebase. Code below the API speaks in kinds; only the API's error
 * middleware knows HTTP, through `httpStatusOf`.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'unavailable'
  | 'upstream'
  | 'internal';

const statusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  unavailable: 503,
  /** A provider (WhatsApp, …) refused or failed the request we relayed. */
  upstream: 502,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: { retryAfterSec?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function httpStatusOf(kind: ErrorKind): number {
  return statusByKind[kind];
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
