import { APIConnectionError, HttpError, ProvenantError, errorFromResponse } from './errors.js';
import { Agents } from './resources/agents.js';
import { ApiKeys } from './resources/api-keys.js';
import type { Me } from './resources/auth.js';
import { backoff, errorCode, neverConnected, retryDelay, sleep } from './retry.js';
import { Sessions } from './resources/sessions.js';

export const VERSION = '0.1.0';

export interface ClientOptions {
  /** Where the Provenant server lives, e.g. `https://provenant.example.com`. Defaults to `PROVENANT_URL`. */
  baseUrl?: string | undefined;
  /** A `pk_live_…` key. Defaults to `PROVENANT_API_KEY`. */
  apiKey?: string | undefined;
  /** Milliseconds one attempt may take, answer body included. Default 30000. */
  timeout?: number;
  /** How many times a failed request that is safe to repeat is retried. Default 2. */
  maxRetries?: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | boolean | undefined>;

/** @internal */
export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Set for a POST the server treats as idempotent, so it may be retried like a GET. */
  idempotent?: boolean;
}

export class ProvenantClient {
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  // A #private field: absent from JSON.stringify, util.inspect and console.log.
  readonly #apiKey: string;

  readonly agents = new Agents(this);
  readonly sessions = new Sessions(this);
  readonly apiKeys = new ApiKeys(this);

  constructor({ baseUrl = env('PROVENANT_URL'), apiKey = env('PROVENANT_API_KEY'), timeout = 30_000, maxRetries = 2 }: ClientOptions = {}) {
    if (!baseUrl?.trim()) {
      throw new ProvenantError(
        'No Provenant URL: pass `baseUrl` to new ProvenantClient({ baseUrl }) or set the PROVENANT_URL environment variable (e.g. https://provenant.example.com).',
      );
    }
    if (!apiKey?.trim()) {
      throw new ProvenantError(
        'No Provenant API key: pass `apiKey` to new ProvenantClient({ apiKey }) or set the PROVENANT_API_KEY environment variable. Create a key under API Keys in the Provenant dashboard.',
      );
    }
    if (!/^https?:\/\/[^/]/i.test(baseUrl.trim())) {
      throw new ProvenantError(`baseUrl must be an http(s) URL such as https://provenant.example.com, got ${JSON.stringify(baseUrl)}.`);
    }
    if (!Number.isFinite(timeout) || timeout <= 0) throw new ProvenantError('timeout must be a positive number of milliseconds.');
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new ProvenantError('maxRetries must be a whole number, 0 or more.');
    this.baseUrl = baseUrl.trim().replace(/\/+$/, '');
    this.#apiKey = apiKey.trim();
    this.timeout = timeout;
    this.maxRetries = maxRetries;
  }

  /** Who the key belongs to: the user, their role and org, and which key is in use. */
  me(): Promise<Me> {
    return this.request('GET', '/api/auth/me');
  }

  /**
   * Sends one API request, retrying with jittered exponential backoff when that is safe: connection failures,
   * timeouts, 429 and 5xx for GET/PUT/DELETE (and idempotent POSTs); any POST whose connection was never made.
   * @internal
   */
  async request<T>(method: Method, path: string, { query, body, idempotent }: RequestOptions = {}): Promise<T> {
    const url = this.#url(path, query);
    const repeatable = idempotent ?? ['GET', 'PUT', 'DELETE'].includes(method);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${this.#apiKey}`,
      'User-Agent': `provenant-node/${VERSION}`,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);

    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < this.maxRetries;
      let response: Response;
      let text: string;
      try {
        // The timeout covers the whole attempt: connecting, waiting for headers and reading the body.
        response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeout) });
        text = await response.text();
      } catch (cause) {
        if (retriesLeft && (repeatable || neverConnected(cause))) {
          await sleep(backoff(attempt));
          continue;
        }
        throw this.#connectionError(method, path, cause);
      }

      const { status } = response;
      if (status >= 200 && status < 300) {
        if (status === 204 || text === '') return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new ProvenantError(`${method} ${path} answered ${status} with a body that is not JSON.`);
        }
      }

      const error = errorFromResponse(status, text);
      if (retriesLeft && repeatable && (status === 429 || status >= 500)) {
        const delay = retryDelay(response.headers, attempt);
        if (delay !== undefined) {
          await sleep(delay);
          continue;
        }
      }
      throw this.#scrubbed(error);
    }
  }

  #url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  #connectionError(method: Method, path: string, cause: unknown): APIConnectionError {
    const target = `${method} ${this.baseUrl}${path}`;
    if (cause instanceof Error && cause.name === 'TimeoutError') {
      return new APIConnectionError(`${target} timed out after ${this.timeout} ms.`, { cause });
    }
    const reason = errorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause));
    return new APIConnectionError(this.#redact(`Could not reach ${target}: ${reason}.`), { cause });
  }

  // The key never appears in an error, even if a server were to echo it back.
  #scrubbed(error: HttpError): HttpError {
    if (!error.message.includes(this.#apiKey)) return error;
    return new (error.constructor as typeof HttpError)(error.statusCode, error.code, this.#redact(error.message), error.details);
  }

  #redact(text: string): string {
    return text.split(this.#apiKey).join('[redacted]');
  }
}

function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}
