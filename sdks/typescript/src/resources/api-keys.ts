import { PagedList } from '../pagination.js';
import type { Transport } from '../transport.js';

/** `full` acts with the creator's current role; `read` only reads; `ingest` does what an instrumented agent needs. */
export type ApiKeyAccess = 'full' | 'read' | 'ingest';

export interface ApiKey {
  id: string;
  name: string;
  /** The first 8 hex characters after `pk_live_`, enough to recognise a key. */
  keyPrefix: string;
  access: ApiKeyAccess;
  isActive: boolean;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
  /** `revoked` by a person, `leaked` when a secret scanner reported it; null while not revoked. */
  revokedReason: 'revoked' | 'leaked' | null;
  /** The key that replaced this one when it was rolled. */
  rolledToId: string | null;
  /** Requests a minute the key may make (past it: 429 `rate_limited`, a `RateLimitError`); null: no limit. */
  rateLimitPerMinute: number | null;
  user: { id: string; name: string; email: string };
}

/** Answer of `create()` and `roll()`, the only ones that ever carry the full key: store it now, it cannot be read again. */
export interface ApiKeyWithSecret extends ApiKey {
  key: string;
}

export interface ApiKeyCreateParams {
  name: string;
  /** Must be in the future. */
  expiresAt?: Date | string;
  /** Default `full`. */
  access?: ApiKeyAccess;
  /** 1 to 1,000,000 requests a minute; default (or null): no limit. */
  rateLimitPerMinute?: number | null;
}

export interface ApiKeyListParams {
  includeRevoked?: boolean;
  /** The most keys to return in all; without it, every key. */
  limit?: number;
}

export interface ApiKeyRollParams {
  /** Seconds the old key keeps working (0 to 604800, i.e. 7 days). Default 0: it stops at once. */
  graceSeconds?: number;
}

export interface ApiKeyUsageDay {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  requests: number;
}

export class ApiKeys {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Keys the caller may see (all of the org's for OWNER and ADMIN, their own otherwise), newest first. */
  list({ includeRevoked, limit }: ApiKeyListParams = {}): PagedList<ApiKey> {
    return new PagedList(this.#transport, '/api/org/keys', { includeRevoked }, limit);
  }

  create({ name, expiresAt, access, rateLimitPerMinute }: ApiKeyCreateParams): Promise<ApiKeyWithSecret> {
    const body = {
      name,
      expiresAt: expiresAt instanceof Date ? expiresAt.toISOString() : expiresAt,
      access,
      rateLimitPerMinute,
    };
    return this.#transport.request('POST', '/api/org/keys', { body });
  }

  /** Revokes for good; revoking a revoked key succeeds again. */
  revoke(id: string): Promise<{ success: true }> {
    return this.#transport.request('DELETE', `/api/org/keys/${encodeURIComponent(id)}`);
  }

  /**
   * A new key with the same name, access, rate limit and expiry; the old one keeps working for `graceSeconds`, so running
   * deployments can move over. Throws `ConflictError` for a revoked or expired key.
   */
  roll(id: string, { graceSeconds }: ApiKeyRollParams = {}): Promise<ApiKeyWithSecret> {
    return this.#transport.request('POST', `/api/org/keys/${encodeURIComponent(id)}/roll`, { body: { graceSeconds } });
  }

  /** Requests per day, oldest first, days without use included as 0; today's count may lag by up to a minute. */
  usage(id: string, { days }: { days?: number } = {}): Promise<ApiKeyUsageDay[]> {
    return this.#transport.request('GET', `/api/org/keys/${encodeURIComponent(id)}/usage`, { query: { days } });
  }
}
