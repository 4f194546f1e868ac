/**
 * A tiny server that ingests turns as the contract's "Turns in batches" says — sessions, arrays of 1–500 turns
 * stored all or nothing, a clientId stored once per session, 409 once ended — with a hook to fail on purpose.
 * The background sender's corners (422 naming an index, 413, Retry-After) are tested against it; the real
 * server's behaviour is tested against `provenant serve`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { json, startTinyServer, type TinyServer } from './servers.js';

export interface StoredTurn {
  role: string;
  content: unknown;
  clientId: string;
}

export interface IngestServer extends TinyServer {
  /** Turns stored per session id, in order. */
  turns: Map<string, StoredTurn[]>;
  ended: Set<string>;
  /** Sizes of the batches received (stored or not), in order. */
  batches: number[];
}

/** `fail` may answer a request itself (and return true) to make it fail; it sees the parsed body. */
export type FailHook = (req: IncomingMessage, res: ServerResponse, body: unknown, index: number) => boolean;

export async function startIngestServer(fail: FailHook = () => false, port = 0): Promise<IngestServer> {
  const turns = new Map<string, StoredTurn[]>();
  const ended = new Set<string>();
  const batches: number[] = [];
  const tiny = await startTinyServer((req, res, index, text) => {
    const body: unknown = text ? JSON.parse(text) : undefined;
    if (fail(req, res, body, index)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/api/sessions') {
      const id = randomUUID();
      turns.set(id, []);
      return json(res, 201, { id, agentId: (body as { agentId: string }).agentId, status: 'ACTIVE' });
    }
    const match = /^\/api\/sessions\/([^/]+)\/(turns|end)$/.exec(path);
    const stored = match ? turns.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !stored) return json(res, 404, { error: 'Session not found.', code: 'not_found' });
    const id = decodeURIComponent(match[1] ?? '');
    if (ended.has(id)) return json(res, 409, { error: 'The session has ended.', code: 'session_ended' });
    if (match[2] === 'end') {
      ended.add(id);
      return json(res, 200, { id, status: 'COMPLETED' });
    }
    const items = (Array.isArray(body) ? body : [body]) as StoredTurn[];
    batches.push(items.length);
    if (items.length < 1 || items.length > 500) return json(res, 422, { error: 'Batch size', code: 'validation_error' });
    const answer = items.map((item) => stored.find((turn) => item.clientId && turn.clientId === item.clientId) ?? item);
    for (const item of answer) if (!stored.includes(item)) stored.push(item);
    json(res, 201, Array.isArray(body) ? answer : answer[0]);
  }, port);
  return Object.assign(tiny, { turns, ended, batches });
}
