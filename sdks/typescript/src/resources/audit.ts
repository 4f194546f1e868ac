import { PagedList } from '../pagination.js';
import type { Query, Transport } from '../transport.js';

export interface AuditEntry {
  id: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  user: { id: string; name: string | null; email: string | null } | null;
  apiKeyId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: string;
}

export interface AuditFilter {
  /** e.g. `apikey.revoke`. */
  action?: string;
  userId?: string;
  resourceType?: string;
  resourceId?: string;
  /** Inclusive. */
  from?: Date | string;
  /** Inclusive. */
  to?: Date | string;
}

export interface AuditListParams extends AuditFilter {
  /** The most entries to return in all; without it, every entry. */
  limit?: number;
}

/** The audit log, readable by OWNER and ADMIN; entries are never changed or deleted. */
export class Audit {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Entries newest first, page after page. */
  list({ limit, ...filter }: AuditListParams = {}): PagedList<AuditEntry> {
    return new PagedList(this.#transport, '/api/audit', filterQuery(filter), limit);
  }

  /** Every matching entry, newest first, streamed from one NDJSON answer as it arrives (no paging). */
  export(filter: AuditFilter = {}): AsyncIterable<AuditEntry> {
    return this.#transport.lines<AuditEntry>('/api/audit/export', filterQuery(filter));
  }
}

function filterQuery({ action, userId, resourceType, resourceId, from, to }: AuditFilter): Query {
  return { action, userId, resourceType, resourceId, from: isoDate(from), to: isoDate(to) };
}

function isoDate(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}
