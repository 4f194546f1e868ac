import type { ProvenantClient } from '../client.js';
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
  slug: string;
  description?: string;
  tags?: string[];
  modelFamily?: string;
}

export type AgentGetOrCreateOptions = Omit<AgentCreateParams, 'name' | 'slug'>;

export class Agents {
  readonly #client: ProvenantClient;

  constructor(client: ProvenantClient) {
    this.#client = client;
  }

  /** The org's agents, most recently updated first. */
  list({ status }: { status?: AgentStatus } = {}): Promise<Agent[]> {
    return this.#client.request('GET', '/api/agents', { query: { status } });
  }

  get(id: string): Promise<Agent> {
    return this.#client.request('GET', `/api/agents/${encodeURIComponent(id)}`);
  }

  /** Throws `ConflictError` if the slug is taken in the org. */
  create(params: AgentCreateParams): Promise<Agent> {
    return this.#client.request('POST', '/api/agents', { body: params });
  }

  /** The agent whose slug derives from `name`, created if missing. Safe to call repeatedly, and so retried. */
  getOrCreate(name: string, options: AgentGetOrCreateOptions = {}): Promise<Agent> {
    return this.#client.request('POST', '/api/agents/get-or-create', { body: { ...options, name }, idempotent: true });
  }

  /** Starts a session of this agent; same as `client.sessions.create({ agentId, ...options })`. */
  createSession(agentId: string, options: Omit<SessionCreateParams, 'agentId'> = {}): Promise<Session> {
    return this.#client.sessions.create({ ...options, agentId });
  }
}
