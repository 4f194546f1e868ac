import type { ProvenantClient } from '../client.js';

export interface ApiKey {
  id: string;
  name: string;
  /** The first 8 hex characters after `pk_live_`, enough to recognise a key. */
  keyPrefix: string;
  isActive: boolean;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
  user: { id: string; name: string; email: string };
}

/** Answer of `create()`, the only one that ever carries the full key: store it now, it cannot be read again. */
export interface ApiKeyWithSecret extends ApiKey {
  key: string;
}

export interface ApiKeyCreateParams {
  name: string;
  /** Must be in the future. */
  expiresAt?: Date | string;
}

export class ApiKeys {
  readonly #client: ProvenantClient;

  constructor(client: ProvenantClient) {
    this.#client = client;
  }

  /** Keys the caller may see (all of the org's for OWNER and ADMIN, their own otherwise), newest first. */
  list({ includeRevoked }: { includeRevoked?: boolean } = {}): Promise<ApiKey[]> {
    return this.#client.request('GET', '/api/org/keys', { query: { includeRevoked } });
  }

  create({ name, expiresAt }: ApiKeyCreateParams): Promise<ApiKeyWithSecret> {
    const body = { name, expiresAt: expiresAt instanceof Date ? expiresAt.toISOString() : expiresAt };
    return this.#client.request('POST', '/api/org/keys', { body });
  }

  /** Revokes for good; revoking a revoked key succeeds again. */
  revoke(id: string): Promise<{ success: true }> {
    return this.#client.request('DELETE', `/api/org/keys/${encodeURIComponent(id)}`);
  }
}
