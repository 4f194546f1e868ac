import type { ProvenantClient } from '../client.js';

export type SessionStatus = 'ACTIVE' | 'COMPLETED' | 'FAILED';
export type TurnRole = 'USER' | 'ASSISTANT' | 'SYSTEM' | 'TOOL';
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Session {
  id: string;
  agentId: string;
  agentVersionId: string | null;
  environmentId: string | null;
  externalId: string | null;
  userId: string | null;
  metadata: Record<string, unknown> | null;
  tags: string[];
  status: SessionStatus;
  startedAt: string;
  endedAt: string | null;
  totalTokens: number | null;
  totalLatencyMs: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface Turn {
  id: string;
  sessionId: string;
  role: TurnRole;
  content: string | Record<string, unknown> | unknown[];
  toolCalls: unknown;
  latencyMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

export interface SessionWithTurns extends Session {
  turns: Turn[];
}

export interface SessionCreateParams {
  agentId: string;
  agentVersionId?: string;
  environmentId?: string;
  externalId?: string;
  userId?: string;
  metadata?: Record<string, Json>;
  tags?: string[];
}

export interface TurnCreateParams {
  role: TurnRole;
  content: string | { [key: string]: Json } | Json[];
  toolCalls?: Json;
  latencyMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  metadata?: Record<string, Json>;
}

export interface SessionEndParams {
  status?: 'COMPLETED' | 'FAILED';
  totalTokens?: number;
  totalLatencyMs?: number;
}

export class Sessions {
  readonly #client: ProvenantClient;

  constructor(client: ProvenantClient) {
    this.#client = client;
  }

  /** Starts a session; its `status` is `ACTIVE` until `end()`. */
  create(params: SessionCreateParams): Promise<Session> {
    return this.#client.request('POST', '/api/sessions', { body: params });
  }

  /** The session with its turns in order. */
  get(id: string): Promise<SessionWithTurns> {
    return this.#client.request('GET', `/api/sessions/${encodeURIComponent(id)}`);
  }

  /** Records one turn; once this resolves the turn is durably stored. Throws `ConflictError` once the session ended. */
  addTurn(sessionId: string, turn: TurnCreateParams): Promise<Turn> {
    return this.#client.request('POST', `/api/sessions/${encodeURIComponent(sessionId)}/turns`, { body: turn });
  }

  end(sessionId: string, params: SessionEndParams = {}): Promise<Session> {
    return this.#client.request('POST', `/api/sessions/${encodeURIComponent(sessionId)}/end`, { body: params });
  }
}
