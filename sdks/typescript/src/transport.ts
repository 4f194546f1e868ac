/**
 * How one API call becomes HTTP: URL, headers, timeout, retries, and the error that stands for a failure.
 * Resources and the background sender share one `Transport` per client; it is internal to the SDK.
 */
import { APIConnectionError, APIStatusError, APITimeoutError, ProvenantError, errorFromResponse } from './errors.js';
import { backoff, errorCode, neverConnected, retryDelay, sleep } from './retry.js';
import { TrustedCi } from './trusted-ci.js';
import { VERSION } from './version.js';

export { VERSION };
const USER_AGENT = `provenant-node/${VERSION}`;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Set for a POST the server treats as idempotent, so it may be retried like a GET. */
  idempotent?: boolean;
  /** Overrides the client's `maxRetries` (the background sender retries on its own terms). */
  maxRetries?: number;
  /** A body already serialised as JSON, sent as it is instead of `body`. */
  json?: string;
  /** Aborts the request early (the background sender's shutdown deadline). */
  signal?: AbortSignal;
}

export interface Answer<T> {
  data: T;
  headers: Headers;
}

export interface TransportOptions {
  baseUrl: string;
  /** A `pk_live_` key; without one, the key is exchanged from the CI provider's ID token (trusted-ci.ts). */
  apiKey: string | undefined;
  timeout: number;
  maxRetries: number;
}

export class Transport {
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  // #private fields: absent from JSON.stringify, util.inspect and console.log.
  readonly #apiKey: string | undefined;
  readonly #trustedCi: TrustedCi | undefined; // exactly when there is no #apiKey

  constructor({ baseUrl, apiKey, timeout, maxRetries }: TransportOptions) {
    this.baseUrl = baseUrl;
    this.#apiKey = apiKey;
    this.#trustedCi = apiKey === undefined ? new TrustedCi({ baseUrl, timeout, userAgent: USER_AGENT }) : undefined;
    this.timeout = timeout;
    this.maxRetries = maxRetries;
  }

  /** The key to send now (exchanged first, in trusted CI, when there is none or it is about to expire). */
  async #key(): Promise<string> {
    return this.#apiKey ?? (await (this.#trustedCi as TrustedCi).key());
  }

  /** In trusted CI, a key the server refused (401) is exchanged again once: undefined when there is no other. */
  async #replacement(refused: string): Promise<string | undefined> {
    if (this.#trustedCi === undefined) return undefined;
    const fresh = await this.#trustedCi.key(refused);
    return fresh === refused ? undefined : fresh;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>(method, path, options)).data;
  }

  /**
   * Sends one API request, retrying with jittered exponential backoff when that is safe: connection failures,
   * timeouts, 429 and 5xx for GET/PUT/DELETE (and idempotent POSTs); any POST whose connection was never made.
   * A `Retry-After` up to a minute is waited out as given; a longer one is not waited for, the error is thrown.
   */
  async send<T>(method: Method, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const { query, body, idempotent, maxRetries, signal } = options;
    const url = this.url(path, query);
    const retries = maxRetries ?? this.maxRetries;
    const repeatable = idempotent ?? ['GET', 'PUT', 'DELETE'].includes(method);
    const payload = options.json ?? (body === undefined ? undefined : JSON.stringify(body));
    let key = await this.#key();
    let reauthenticated = false;

    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < retries;
      const init = { method, headers: this.#headers(key, payload !== undefined), body: payload };
      let response: Response;
      let text: string;
      try {
        // The timeout covers the whole attempt: connecting, waiting for headers and reading the body.
        response = await fetch(url, { ...init, signal: this.#deadline(signal) });
        text = await response.text();
      } catch (cause) {
        if (retriesLeft && (repeatable || neverConnected(cause))) {
          await sleep(backoff(attempt));
          continue;
        }
        throw this.#connectionError(method, path, cause);
      }
      if (response.ok) return { data: this.#json(method, path, response, text) as T, headers: response.headers };
      if (response.status === 401 && !reauthenticated) {
        reauthenticated = true;
        const fresh = await this.#replacement(key);
        if (fresh !== undefined) {
          key = fresh;
          attempt--; // not a retry: the same request with a key that works
          continue;
        }
      }
      // A 429 (a key's rate_limited, too_many_attempts) is answered before the request does anything: any
      // method may be sent again after it, a POST too.
      const again = repeatable || response.status === 429;
      const delay = retriesLeft && again ? delayAfterStatus(response, attempt) : undefined;
      if (delay === undefined) throw this.#scrubbed(errorFromResponse(response.status, text, response.headers));
      await sleep(delay);
    }
  }

  /**
   * The lines of an NDJSON answer, each parsed, as they arrive. Getting the answer is retried like any GET; the
   * timeout then covers each silence between chunks, so a long export is not cut off while it is still flowing.
   */
  async *lines<T>(path: string, query?: Query): AsyncGenerator<T> {
    const { body, abort } = await this.#openStream(path, query);
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        timer = setTimeout(() => abort.abort(new DOMException('The export went silent.', 'TimeoutError')), this.timeout);
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (cause) {
          throw this.#connectionError('GET', path, abort.signal.aborted ? abort.signal.reason : cause);
        } finally {
          clearTimeout(timer);
        }
        buffered += decoder.decode(chunk.value, { stream: !chunk.done });
        const lines = buffered.split('\n');
        buffered = chunk.done ? '' : (lines.pop() ?? '');
        for (const line of lines) {
          if (line.trim()) yield JSON.parse(line) as T;
        }
        if (chunk.done) return;
      }
    } finally {
      clearTimeout(timer);
      // A caller that stops iterating early closes the connection instead of leaving the export running.
      await reader.cancel().catch(() => undefined);
    }
  }

  async #openStream(path: string, query?: Query): Promise<{ body: ReadableStream<Uint8Array>; abort: AbortController }> {
    const url = this.url(path, query);
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < this.maxRetries;
      const abort = new AbortController();
      // Only the wait for the headers is timed here; lines() times each silence of the body on the same signal.
      const timer = setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), this.timeout);
      let response: Response;
      try {
        response = await fetch(url, { headers: this.#headers(await this.#key(), false), signal: abort.signal });
      } catch (cause) {
        if (!retriesLeft) throw this.#connectionError('GET', path, abort.signal.aborted ? abort.signal.reason : cause);
        await sleep(backoff(attempt));
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (response.ok) return { body: response.body ?? new Blob([]).stream(), abort };
      const text = await response.text().catch(() => '');
      const delay = retriesLeft ? delayAfterStatus(response, attempt) : undefined;
      if (delay === undefined) throw this.#scrubbed(errorFromResponse(response.status, text, response.headers));
      await sleep(delay);
    }
  }

  #deadline(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeout);
    // AbortSignal.any arrived in Node 20.3; on older Nodes an aborted sender's request just runs to its timeout.
    return signal && typeof AbortSignal.any === 'function' ? AbortSignal.any([timeout, signal]) : timeout;
  }

  #json(method: Method, path: string, response: Response, text: string): unknown {
    if (response.status === 204 || text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ProvenantError(
        `${method} ${path} answered ${response.status} with a body that is not JSON; is the base URL the Provenant API?`,
      );
    }
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  #headers(key: string, hasBody: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${key}`,
      'User-Agent': USER_AGENT,
    };
    if (hasBody) headers['Content-Type'] = 'application/json';
    return headers;
  }

  #connectionError(method: Method, path: string, cause: unknown): APIConnectionError {
    const target = `${method} ${this.baseUrl}${path}`;
    if (cause instanceof Error && cause.name === 'TimeoutError') {
      return new APITimeoutError(`${target} timed out after ${this.timeout} ms.`, { cause });
    }
    const reason = errorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause));
    return new APIConnectionError(this.#redact(`Could not reach ${target}: ${reason}.`), { cause });
  }

  // The key never appears in an error, even if a server were to echo it back.
  #scrubbed(error: APIStatusError): APIStatusError {
    const key = this.#apiKey ?? this.#trustedCi?.current;
    if (key === undefined || !error.message.includes(key)) return error;
    const ErrorClass = error.constructor as typeof APIStatusError;
    return new ErrorClass(error.statusCode, error.code, this.#redact(error.message), error.details, error.headers);
  }

  #redact(text: string): string {
    const key = this.#apiKey ?? this.#trustedCi?.current;
    return key === undefined ? text : text.split(key).join('[redacted]');
  }
}

/** Milliseconds to wait before repeating a request answered 429 or 5xx; undefined for any other status, or when
 * the server's Retry-After asks for longer than is worth blocking on. */
function delayAfterStatus(response: Response, attempt: number): number | undefined {
  return response.status === 429 || response.status >= 500 ? retryDelay(response.headers, attempt) : undefined;
}
