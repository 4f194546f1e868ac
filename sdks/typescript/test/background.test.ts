/**
 * Background mode's corners against a tiny server that ingests batches as the contract says: when batches leave,
 * what is retried, what is dropped and counted, and what flush and shutdown promise.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { ProvenantClient, type ClientOptions } from '@provenant/sdk';

import { startIngestServer, type FailHook, type IngestServer, type StoredTurn } from './helpers/ingest-server.js';
import { freePort, json } from './helpers/servers.js';

const KEY = 'pk_live_0123456789abcdef0123456789abcdef';

let server: IngestServer | undefined;
let client: ProvenantClient | undefined;
let warnings: Error[] = [];
const collect = (warning: Error) => {
  if (warning.name === 'ProvenantWarning') warnings.push(warning);
};

beforeEach(() => {
  warnings = [];
  process.on('warning', collect);
});
afterEach(async () => {
  await client?.shutdown({ timeout: 1_000 });
  client = undefined;
  await server?.close();
  server = undefined;
  process.off('warning', collect);
});

async function setup(fail?: FailHook, options: ClientOptions = {}) {
  const started = await startIngestServer(fail);
  server = started;
  client = new ProvenantClient({ baseUrl: started.url, apiKey: KEY, ...options });
  return { server: started, client };
}

const turn = (i: number) => ({ role: 'USER' as const, content: `turn ${i}` });
const contents = (server: IngestServer, sessionId: string) => server.turns.get(sessionId)?.map((t) => t.content);
const range = (n: number) => Array.from({ length: n }, (_, i) => `turn ${i}`);
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('logTurn', () => {
  test('returns at once, before anything is sent, and the turns arrive in order with unique clientIds', async () => {
    const { server, client } = await setup();
    const session = client.session('agent-1', { externalId: 'conv-1' });
    for (let i = 0; i < 250; i++) assert.equal(session.logTurn(turn(i)), undefined);
    assert.equal(server.requests.length, 0, 'nothing is sent while the agent runs');
    assert.equal(await session.end(), true);

    assert.ok(session.id);
    assert.deepEqual(contents(server, session.id), range(250));
    const ids = server.turns.get(session.id)?.map((t) => t.clientId) ?? [];
    assert.equal(new Set(ids).size, 250);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 64));
    assert.ok(server.ended.has(session.id));
    assert.equal(client.droppedTurns, 0);
  });

  test('a few turns wait for flushInterval; flushAt turns go at once', async () => {
    const { server, client } = await setup(undefined, { flushInterval: 400, flushAt: 10 });
    server.turns.set('s1', []);
    client.logTurn('s1', turn(0));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.turns.get('s1')?.length, 0, 'one turn waits for the interval');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(server.turns.get('s1')?.length, 1, 'and is sent once it passed');

    for (let i = 1; i <= 10; i++) client.logTurn('s1', turn(i));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(server.turns.get('s1')?.length, 11, 'flushAt turns do not wait for the interval');
    assert.deepEqual(server.batches, [1, 10]);
  });

  test('never throws into the agent: a turn that is not valid or not JSON is dropped, counted and warned about', async () => {
    const { server, client } = await setup();
    server.turns.set('s1', []);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    client.logTurn('s1', { role: 'NARRATOR' as 'USER', content: 'x' });
    client.logTurn('s1', { role: 'USER', content: cyclic as never });
    client.logTurn('s1', undefined as never);
    client.logTurn('s1', { role: 'USER', content: 'kept' });
    assert.equal(client.droppedTurns, 3);
    assert.equal(await client.flush(), true);
    assert.deepEqual(contents(server, 's1'), ['kept']);
    await nextTick();
    assert.ok(warnings.length >= 1);
  });

  test('the turn is taken as it was when logged, whatever the caller changes afterwards', async () => {
    const { server, client } = await setup();
    server.turns.set('s1', []);
    const messages = [{ text: 'first' }];
    client.logTurn('s1', { role: 'USER', content: messages });
    messages.push({ text: 'second' });
    await client.flush();
    assert.deepEqual(contents(server, 's1'), [[{ text: 'first' }]]);
  });
});

describe('retries', () => {
  test('429 and 5xx are retried, Retry-After honoured, order kept, nothing stored twice', async () => {
    let failures = 0;
    const { server, client } = await setup((req, res) => {
      if (!req.url?.endsWith('/turns') || failures >= 3) return false;
      failures++;
      if (failures === 1) json(res, 429, { error: 'Slow down', code: 'rate_limited' }, { 'Retry-After': '0.2' });
      else if (failures === 2) json(res, 503, { error: 'Busy', code: 'busy' });
      else req.socket.destroy();
      return true;
    });
    server.turns.set('s1', []);
    for (let i = 0; i < 30; i++) client.logTurn('s1', turn(i));
    assert.equal(await client.flush({ timeout: 10_000 }), true);
    assert.deepEqual(contents(server, 's1'), range(30));
    assert.equal(client.droppedTurns, 0);
  });

  test('a 500 (not 502/503/504) is tried five more times, then that batch counts as dropped and the rest goes on', async () => {
    const { server, client } = await setup((req, res, body) => {
      if (!Array.isArray(body) || body[0]?.content !== 'poison') return false;
      json(res, 500, { error: 'Something went wrong on our side.', code: 'internal_error' });
      return true;
    });
    server.turns.set('s1', []);
    server.turns.set('s2', []);
    client.logTurn('s1', { role: 'USER', content: 'poison' });
    client.logTurn('s2', turn(0));
    // Each flush cuts the backoff short, so the six tries take no minute.
    for (let i = 0; i < 40 && client.droppedTurns === 0; i++) await client.flush({ timeout: 100 });
    assert.equal(await client.flush(), true);
    assert.equal(server.requests.filter((r) => r.url === '/api/sessions/s1/turns').length, 6);
    assert.equal(client.droppedTurns, 1);
    assert.deepEqual(contents(server, 's2'), ['turn 0']);
    client.logTurn('s1', turn(1));
    assert.equal(await client.flush(), true);
    assert.deepEqual(contents(server, 's1'), ['turn 1'], 'only that batch was given up, not its session');
  });

  test('a batch whose answer was lost and, by its clientIds, stored once', async () => {
    let lost = false;
    const { server, client } = await setup((req, _res, body) => {
      if (lost || !req.url?.endsWith('/turns')) return false;
      // Store the batch as the server would, then drop the connection instead of answering.
      lost = true;
      server.turns.get('s1')?.push(...(body as StoredTurn[]));
      req.socket.destroy();
      return true;
    });
    server.turns.set('s1', []);
    for (let i = 0; i < 5; i++) client.logTurn('s1', turn(i));
    assert.equal(await client.flush({ timeout: 5_000 }), true);
    assert.equal(server.requests.length, 2, 'sent, and sent again');
    assert.deepEqual(contents(server, 's1'), range(5));
  });

  test('a 422 naming one item drops that item only; the rest is resent', async () => {
    const { server, client } = await setup((req, res, body) => {
      if (!Array.isArray(body)) return false;
      const bad = body.findIndex((item: { content: unknown }) => item.content === 'bad');
      if (bad < 0) return false;
      json(res, 422, { error: 'Invalid turn', code: 'validation_error', details: [{ field: `[${bad}].content`, message: 'bad' }] });
      return true;
    });
    server.turns.set('s1', []);
    client.logTurn('s1', turn(0));
    client.logTurn('s1', { role: 'USER', content: 'bad' });
    client.logTurn('s1', turn(2));
    assert.equal(await client.flush(), true);
    assert.deepEqual(contents(server, 's1'), ['turn 0', 'turn 2']);
    assert.equal(client.droppedTurns, 1);
    await nextTick();
    assert.match(warnings.map((w) => w.message).join('\n'), /Invalid turn/);
  });

  test('a batch too large (413) is split', async () => {
    const { server, client } = await setup((req, res, body) => {
      if (!Array.isArray(body) || body.length <= 40) return false;
      json(res, 413, { error: 'Body too large', code: 'payload_too_large' });
      return true;
    });
    server.turns.set('s1', []);
    for (let i = 0; i < 150; i++) client.logTurn('s1', turn(i));
    assert.equal(await client.flush(), true);
    assert.deepEqual(contents(server, 's1'), range(150));
    assert.equal(client.droppedTurns, 0);
  });

  test('a session the server does not know: its turns are dropped, counted and warned about, once', async () => {
    const { server, client } = await setup();
    for (let i = 0; i < 3; i++) client.logTurn('missing', turn(i));
    assert.equal(await client.flush(), true);
    assert.equal(client.droppedTurns, 3);
    client.logTurn('missing', turn(4));
    await client.flush();
    assert.equal(client.droppedTurns, 4);
    await nextTick();
    assert.equal(warnings.filter((w) => /Session not found/.test(w.message)).length, 1);
    assert.equal(server.turns.size, 0);
  });
});

describe('the bound', () => {
  test('beyond maxQueuedTurns new turns are dropped and counted, with one warning; the first ones are kept', async () => {
    const port = await freePort();
    client = new ProvenantClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, maxQueuedTurns: 50 });
    for (let i = 0; i < 80; i++) client.logTurn('s1', turn(i));
    assert.equal(client.droppedTurns, 30);
    await nextTick();
    assert.equal(warnings.filter((w) => (w as Error & { code?: string }).code === 'PROVENANT_QUEUE_FULL').length, 1);

    server = await startIngestServer(undefined, port);
    server.turns.set('s1', []);
    assert.equal(await client.flush({ timeout: 10_000 }), true);
    assert.deepEqual(contents(server, 's1'), range(50));
  });
});

describe('flush and shutdown', () => {
  test('flush resolves false when its timeout runs out with the server down, and never rejects', async () => {
    const port = await freePort();
    client = new ProvenantClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY });
    client.logTurn('s1', turn(0));
    const started = Date.now();
    assert.equal(await client.flush({ timeout: 300 }), false);
    assert.ok(Date.now() - started < 1_500);
    assert.equal(client.droppedTurns, 0, 'still queued, not dropped');
  });

  test('flush with nothing queued resolves true at once', async () => {
    const { client } = await setup();
    assert.equal(await client.flush(), true);
  });

  test('shutdown sends what is queued, then drops (and counts) turns logged after it', async () => {
    const { server, client } = await setup();
    const session = client.session('agent-1');
    session.logTurn(turn(0));
    assert.equal(await client.shutdown(), true);
    assert.ok(session.id);
    assert.deepEqual(contents(server, session.id), ['turn 0']);
    session.logTurn(turn(1));
    client.logTurn(session.id, turn(2));
    assert.equal(client.droppedTurns, 2);
  });

  test('shutdown with the server down gives up after its timeout and counts what it could not send', async () => {
    const port = await freePort();
    client = new ProvenantClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY });
    for (let i = 0; i < 7; i++) client.logTurn('s1', turn(i));
    assert.equal(await client.shutdown({ timeout: 300 }), false);
    assert.equal(client.droppedTurns, 7);
  });

  test('end() orders the end after the turns, and turns logged after it are dropped', async () => {
    const { server, client } = await setup();
    const session = client.session({ id: 'agent-1' });
    session.logTurn(turn(0));
    const ended = session.end({ status: 'COMPLETED' });
    session.logTurn(turn(1));
    assert.equal(await ended, true);
    assert.deepEqual(contents(server, session.id ?? ''), ['turn 0']);
    assert.equal(client.droppedTurns, 1);
    const paths = server.requests.map((r) => `${r.method} ${r.url.replace(session.id ?? '', '{id}')}`);
    assert.deepEqual(paths, ['POST /api/sessions', 'POST /api/sessions/{id}/turns', 'POST /api/sessions/{id}/end']);
  });
});
