/**
 * Every error the SDK throws is a `ProvenantError`:
 *
 *   ProvenantError              bad configuration, or a response the SDK cannot read
 *   ├── APIConnectionError      no HTTP answer: network failure or timeout
 *   └── HttpError               the server answered with a 4xx/5xx status
 *       ├── AuthenticationError     401
 *       ├── PermissionDeniedError   403
 *       ├── NotFoundError           404
 *       ├── ConflictError           409
 *       └── RateLimitError          429
 */
export class ProvenantError extends Error {
  static {
    this.prototype.name = 'ProvenantError';
  }
}

/** One entry of a 422 `validation_error` answer. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** The server answered with an error status; `message` is the server's sentence for a person. */
export class HttpError extends ProvenantError {
  static {
    this.prototype.name = 'HttpError';
  }
  /** The HTTP status, e.g. 404. */
  readonly statusCode: number;
  /** The contract's machine code, e.g. `invalid_api_key`; `unknown_error` when the body had none. */
  readonly code: string;
  /** Per-field problems, present on validation errors. */
  readonly details: ErrorDetail[] | undefined;

  constructor(statusCode: number, code: string, message: string, details?: ErrorDetail[]) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export class AuthenticationError extends HttpError {
  static {
    this.prototype.name = 'AuthenticationError';
  }
}

export class PermissionDeniedError extends HttpError {
  static {
    this.prototype.name = 'PermissionDeniedError';
  }
}

export class NotFoundError extends HttpError {
  static {
    this.prototype.name = 'NotFoundError';
  }
}

export class ConflictError extends HttpError {
  static {
    this.prototype.name = 'ConflictError';
  }
}

export class RateLimitError extends HttpError {
  static {
    this.prototype.name = 'RateLimitError';
  }
}

/** The request got no HTTP answer: the connection failed, dropped, or the timeout ran out. */
export class APIConnectionError extends ProvenantError {
  static {
    this.prototype.name = 'APIConnectionError';
  }
}

const byStatus: Record<number, typeof HttpError> = {
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  429: RateLimitError,
};

/** Builds the error for a non-2xx answer from its status and raw body (JSON per the contract, or anything a proxy sent). */
export function errorFromResponse(statusCode: number, body: string): HttpError {
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
  const ErrorClass = byStatus[statusCode] ?? HttpError;
  return new ErrorClass(statusCode, code, message, details);
}
