import { PagedList } from '../pagination.js';
import type { Transport } from '../transport.js';
import type { Session, SessionCreateParams } from './sessions.js';

export type AgentStatus = 'ACTIVE' | 'ARCHIVED';

export interface Agent {
  id: string;
  orgId: string;
  name: string;
  slug: string;
  description: string | null;
  tags: string[];
  modelFamily: string | null;
  status: AgentStatus;
  createdById: string;
  createdAt: string;
  updatedAt: string;
}

export interface AgentCreateParams {
  name: string;
  /** Left out, the server derives it from `name`, as `getOrCreate` matches it. */
  slug?: string;
  description?: string;
  tags?: string[];
  modelFamily?: string;
}

export type AgentGetOrCreateOptions = Omit<AgentCreateParams, 'name' | 'slug'>;

export type AgentUpdateParams = Partial<AgentCreateParams>;

export interface AgentListParams {
  status?: AgentStatus;
  /** The most agents to return in all; without it, every agent. */
  limit?: number;
}

export class Agents {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The org's agents, most recently updated first, page after page. */
  list({ status, limit }: AgentListParams = {}): PagedList<Agent> {
    return new PagedList(this.#transport, '/api/agents', { status }, limit);
  }

  get(id: string): Promise<Agent> {
    return this.#transport.request('GET', `/api/agents/${encodeURIComponent(id)}`);
  }

  /** Throws `ConflictError` if the slug is taken in the org. */
  create(params: AgentCreateParams): Promise<Agent> {
    return this.#transport.request('POST', '/api/agents', { body: params });
  }

  /** The agent whose slug derives from `name`, created if missing. Safe to call repeatedly, and so retried. */
  getOrCreate(name: string, options: AgentGetOrCreateOptions = {}): Promise<Agent> {
    return this.#transport.request('POST', '/api/agents/get-or-create', { body: { ...options, name }, idempotent: true });
  }

  update(id: string, params: AgentUpdateParams): Promise<Agent> {
    return this.#transport.request('PATCH', `/api/agents/${encodeURIComponent(id)}`, { body: params });
  }

  /** Sets the agent's status to `ARCHIVED`; its sessions stay. */
  archive(id: string): Promise<{ success: true }> {
    return this.#transport.request('DELETE', `/api/agents/${encodeURIComponent(id)}`);
  }

  /** Starts a session of this agent; same as `client.sessions.create({ agentId, ...options })`. */
  createSession(agentId: string, options: Omit<SessionCreateParams, 'agentId'> = {}): Promise<Session> {
    return this.#transport.request('POST', '/api/sessions', { body: { ...options, agentId } });
  }
}
