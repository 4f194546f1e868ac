/**
 * Every error the SDK throws is a `ProvenantError`:
 *
 *   ProvenantError                 bad configuration, or a response the SDK cannot read
 *   ├── APIConnectionError         no HTTP answer: connection refused or dropped, DNS, …
 *   │   └── APITimeoutError        … or the timeout ran out
 *   └── APIStatusError             the server answered with a status outside 2xx (also exported as `HttpError`)
 *       ├── AuthenticationError        401: missing, unknown, expired or revoked key
 *       ├── PermissionDeniedError      403: the key's access or its creator's role does not allow this
 *       ├── NotFoundError              404: missing, or belongs to another organization
 *       ├── ConflictError              409: duplicate slug, session already ended, …
 *       ├── UnprocessableEntityError   422: `validation_error`; `details` names each field
 *       ├── RateLimitError             429: slow down; `retryAfter` says for how long
 *       └── InternalServerError        5xx
 *
 * Other statuses (400, 410, 413, …) are plain `APIStatusError`s.
 */
export class ProvenantError extends Error {
  static {
    this.prototype.name = 'ProvenantError';
  }
}

/** One entry of a 422 `validation_error` answer; `field` is like `name`, or `[3].role` in a batch. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** The server answered with an error status; `message` is the server's sentence for a person. */
export class APIStatusError extends ProvenantError {
  static {
    this.prototype.name = 'APIStatusError';
  }
  /** The HTTP status, e.g. 404. */
  readonly statusCode: number;
  /** The contract's machine code, e.g. `invalid_api_key`; `unknown_error` when the body had none. */
  readonly code: string;
  /** Per-field problems, present on validation errors. */
  readonly details: ErrorDetail[] | undefined;
  /** The response's headers (`Retry-After`, `X-Request-Id`, …). */
  readonly headers: Headers;

  constructor(statusCode: number, code: string, message: string, details?: ErrorDetail[], headers?: Headers) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
    this.headers = headers ?? new Headers();
  }
}

/** The name older code uses for `APIStatusError`: the same class, so `instanceof` works with either. */
export { APIStatusError as HttpError };

export class AuthenticationError extends APIStatusError {
  static {
    this.prototype.name = 'AuthenticationError';
  }
}

export class PermissionDeniedError extends APIStatusError {
  static {
    this.prototype.name = 'PermissionDeniedError';
  }
}

export class NotFoundError extends APIStatusError {
  static {
    this.prototype.name = 'NotFoundError';
  }
}

export class ConflictError extends APIStatusError {
  static {
    this.prototype.name = 'ConflictError';
  }
}

export class UnprocessableEntityError extends APIStatusError {
  static {
    this.prototype.name = 'UnprocessableEntityError';
  }
}

export class RateLimitError extends APIStatusError {
  static {
    this.prototype.name = 'RateLimitError';
  }

  /** Milliseconds the server asked to wait (`Retry-After`), when it said. */
  get retryAfter(): number | undefined {
    return retryAfterMs(this.headers);
  }
}

export class InternalServerError extends APIStatusError {
  static {
    this.prototype.name = 'InternalServerError';
  }
}

/** The request got no HTTP answer: the connection failed, dropped, or the timeout ran out. */
export class APIConnectionError extends ProvenantError {
  static {
    this.prototype.name = 'APIConnectionError';
  }
}

/** The request got no answer within the client's `timeout`. */
export class APITimeoutError extends APIConnectionError {
  static {
    this.prototype.name = 'APITimeoutError';
  }
}

const byStatus: Record<number, typeof APIStatusError> = {
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** Builds the error for a non-2xx answer from its status and raw body (JSON per the contract, or anything a proxy sent). */
export function errorFromResponse(statusCode: number, body: string, headers?: Headers): APIStatusError {
  let message = `HTTP ${statusCode}`;
  let code = 'unknown_error';
  let details: ErrorDetail[] | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object') {
      const fields = parsed as Record<string, unknown>;
      if (typeof fields.error === 'string' && fields.error) message = fields.error;
      if (typeof fields.code === 'string' && fields.code) code = fields.code;
      if (Array.isArray(fields.details)) details = fields.details as ErrorDetail[];
    }
  } catch {
    // Not the contract's JSON (a proxy's HTML page, say): keep the generic message rather than echo the page.
  }
  const ErrorClass = byStatus[statusCode] ?? (statusCode >= 500 ? InternalServerError : APIStatusError);
  return new ErrorClass(statusCode, code, message, details, headers);
}

/** Milliseconds from a `Retry-After` header given as seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.max(ms, 0);
}
