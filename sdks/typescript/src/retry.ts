/** When and how long to wait before repeating a request. */
import { retryAfterMs } from './errors.js';

const MAX_RETRY_AFTER_MS = 60_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** 0.5 s, 1 s, 2 s, … capped at 8 s, each shortened by up to a quarter at random so clients do not retry in step. */
export function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8_000) * (1 - Math.random() * 0.25);
}

/** How long to wait before retrying: the server's Retry-After when it sent one, else the backoff; undefined means
 * the server asked for a longer wait than is worth blocking on, so the error is thrown instead. */
export function retryDelay(headers: Headers, attempt: number): number | undefined {
  const asked = retryAfterMs(headers);
  if (asked === undefined) return backoff(attempt);
  return asked > MAX_RETRY_AFTER_MS ? undefined : asked;
}

const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** True when the request cannot have reached the server (no connection was made), so even a POST may be resent. */
export function neverConnected(cause: unknown): boolean {
  const code = errorCode(cause);
  return code !== undefined && NEVER_CONNECTED.has(code);
}

/** The system error code undici wraps in `TypeError: fetch failed` (looking inside an AggregateError too). */
export function errorCode(error: unknown): string | undefined {
  const inner = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const { code, errors } = (inner ?? {}) as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) return errorCode({ cause: (errors as unknown[])[0] });
  return undefined;
}
