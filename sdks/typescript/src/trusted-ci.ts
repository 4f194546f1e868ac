/**
 * Trusted CI: with no API key given, a client running in CI exchanges the CI provider's OpenID Connect ID token
 * for an API key that lives minutes (`POST /api/auth/token-exchange`), and exchanges again shortly before that
 * key expires. Nothing secret is stored in the CI's settings.
 *
 * Where the ID token comes from, first found first:
 * - `PROVENANT_ID_TOKEN`: a token the job was given (GitLab's `id_tokens`, any other CI). Read again at every
 *   exchange, so a job may refresh it; a token is exchanged once, so once its key expires a job with the same
 *   token left gets the server's `api_key_expired`.
 * - GitHub Actions (`permissions: id-token: write`): a fresh token from `ACTIONS_ID_TOKEN_REQUEST_URL` with
 *   `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, for the audience `PROVENANT_OIDC_AUDIENCE` (default `provenant`).
 */
import { ProvenantError, errorFromResponse } from './errors.js';

export const DEFAULT_AUDIENCE = 'provenant';
/** Exchanged again this long before the key expires (a quarter of its life for keys shorter than 4 minutes). */
const REFRESH_MARGIN_MS = 60_000;

type Env = Record<string, string | undefined>;

function environment(): Env {
  return typeof process === 'undefined' ? {} : process.env;
}

export class TrustedCi {
  readonly #baseUrl: string;
  readonly #timeout: number;
  readonly #userAgent: string;
  #key: string | undefined;
  #refreshAt = 0;
  #lastToken: string | undefined;
  #exchanging: Promise<string> | undefined;

  constructor(options: { baseUrl: string; timeout: number; userAgent: string }) {
    this.#baseUrl = options.baseUrl;
    this.#timeout = options.timeout;
    this.#userAgent = options.userAgent;
  }

  /** Whether a CI provider's ID token is at hand, so that no API key is needed. */
  static available(env: Env = environment()): boolean {
    return Boolean(env.PROVENANT_ID_TOKEN?.trim() || (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN));
  }

  /** The key last exchanged, for scrubbing it from errors. */
  get current(): string | undefined {
    return this.#key;
  }

  /**
   * The key to send: the current one, or one exchanged now when it is about to expire (or the server refused
   * `replacing`, e.g. because the clocks disagree) and a fresh ID token can be had. Concurrent callers share
   * one exchange.
   */
  key(replacing?: string): Promise<string> {
    const stale = replacing !== undefined && replacing === this.#key;
    if (this.#key !== undefined && !stale && Date.now() < this.#refreshAt) return Promise.resolve(this.#key);
    this.#exchanging ??= this.#exchange().finally(() => {
      this.#exchanging = undefined;
    });
    return this.#exchanging;
  }

  async #exchange(): Promise<string> {
    const token = await this.#idToken();
    if (token === undefined) {
      if (this.#key !== undefined) return this.#key; // nothing fresher to exchange: the server will say it expired
      throw new ProvenantError('No ID token to exchange for an API key.');
    }
    const response = await fetch(`${this.#baseUrl}/api/auth/token-exchange`, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': this.#userAgent },
      body: JSON.stringify({ idToken: token }),
      signal: AbortSignal.timeout(this.#timeout),
    });
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(response.status, text, response.headers);
    const answer = JSON.parse(text) as { key: string; expiresAt: string };
    const now = Date.now();
    const expires = Date.parse(answer.expiresAt);
    this.#key = answer.key;
    this.#refreshAt = expires - Math.min(REFRESH_MARGIN_MS, Math.max(expires - now, 0) / 4);
    return answer.key;
  }

  async #idToken(): Promise<string | undefined> {
    const env = environment();
    const given = env.PROVENANT_ID_TOKEN?.trim();
    const token = given ? (given === this.#lastToken ? undefined : given) : await this.#fromGitHub(env);
    if (token !== undefined) this.#lastToken = token;
    return token;
  }

  async #fromGitHub(env: Env): Promise<string> {
    const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '');
    url.searchParams.set('audience', env.PROVENANT_OIDC_AUDIENCE?.trim() || DEFAULT_AUDIENCE);
    let status = 'no answer';
    try {
      const response = await fetch(url, {
        headers: { Authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeout),
      });
      status = `HTTP ${response.status}`;
      if (response.ok) {
        const { value } = (await response.json()) as { value?: unknown };
        if (typeof value === 'string' && value) return value;
      }
    } catch {
      // reported below, without the request token
    }
    throw new ProvenantError(
      `GitHub Actions gave no ID token (${status}); does the workflow grant \`permissions: id-token: write\`?`,
    );
  }
}
