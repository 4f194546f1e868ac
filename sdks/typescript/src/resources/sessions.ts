import { PagedList } from '../pagination.js';
import type { Transport } from '../transport.js';

export type SessionStatus = 'ACTIVE' | 'COMPLETED' | 'FAILED';
export type TurnRole = 'USER' | 'ASSISTANT' | 'SYSTEM' | 'TOOL';
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

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
  /** The sender's idempotency id, null when none was sent. */
  clientId: string | null;
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
  /**
   * Up to 64 characters, unique within the session: a turn whose clientId the session already holds is not
   * stored again, so a request of turns that all carry one is safe to resend, and is retried like a GET.
   */
  clientId?: string;
}

export interface SessionEndParams {
  status?: 'COMPLETED' | 'FAILED';
  totalTokens?: number;
  totalLatencyMs?: number;
}

export interface SessionListParams {
  agentId?: string;
  status?: SessionStatus;
  /** Case-insensitive text in any turn. */
  q?: string;
  /** The most sessions to return in all; without it, every session. */
  limit?: number;
}

/** What older clients send to end a session (`end()` is the way now). */
export interface SessionUpdateParams {
  status?: SessionStatus;
  endedAt?: Date | string;
}

export class Sessions {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Sessions newest first, page after page. */
  list({ agentId, status, q, limit }: SessionListParams = {}): PagedList<Session> {
    return new PagedList(this.#transport, '/api/sessions', { agentId, status, q }, limit);
  }

  /** Starts a session; its `status` is `ACTIVE` until `end()`. */
  create(params: SessionCreateParams): Promise<Session> {
    return this.#transport.request('POST', '/api/sessions', { body: params });
  }

  /** The session with its turns in order. */
  get(id: string): Promise<SessionWithTurns> {
    return this.#transport.request('GET', `/api/sessions/${encodeURIComponent(id)}`);
  }

  update(id: string, { status, endedAt }: SessionUpdateParams): Promise<Session> {
    const body = { status, endedAt: endedAt instanceof Date ? endedAt.toISOString() : endedAt };
    return this.#transport.request('PATCH', `/api/sessions/${encodeURIComponent(id)}`, { body });
  }

  /** Deletes the session and its turns. */
  delete(id: string): Promise<{ success: true }> {
    return this.#transport.request('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
  }

  /** Records one turn; once this resolves the turn is durably stored. Throws `ConflictError` once the session ended. */
  addTurn(sessionId: string, turn: TurnCreateParams): Promise<Turn> {
    return this.#transport.request('POST', turnsPath(sessionId), { body: turn, idempotent: turn.clientId !== undefined });
  }

  /**
   * Records 1 to 500 turns in one request, all or nothing, in order; once this resolves every one is durably
   * stored. A bad item throws `UnprocessableEntityError` whose `details[].field` names its index (`[3].role`).
   */
  addTurns(sessionId: string, turns: TurnCreateParams[]): Promise<Turn[]> {
    const idempotent = turns.every((turn) => turn.clientId !== undefined);
    return this.#transport.request('POST', turnsPath(sessionId), { body: turns, idempotent });
  }

  end(sessionId: string, params: SessionEndParams = {}): Promise<Session> {
    return this.#transport.request('POST', `/api/sessions/${encodeURIComponent(sessionId)}/end`, { body: params });
  }
}

function turnsPath(sessionId: string): string {
  return `/api/sessions/${encodeURIComponent(sessionId)}/turns`;
}
