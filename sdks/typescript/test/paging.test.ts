/**
 * Lists that page: the SDK follows `Link: <…>; rel="next"` for the caller, against a tiny server that pages as the
 * contract says (for the corners: lost pages, odd links) and against the real Provenant server.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';

import { InternalServerError, PagedList, ProvenantClient, ProvenantError, type Agent } from '@provenant/sdk';

import { json, newAccount, startProvenant, startTinyServer, type Provenant, type TinyServer } from './helpers/servers.js';

const KEY = 'pk_live_0123456789abcdef0123456789abcdef';

/** `count` items, newest first, paged like the contract: `limit` (default `pageSize`) and an opaque `cursor`. */
function pagingHandler(count: number, { pageSize = 200, linkBase }: { pageSize?: number; linkBase?: string } = {}) {
  const items = Array.from({ length: count }, (_, i) => ({ id: `item-${String(count - i).padStart(4, '0')}` }));
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://tiny.invalid');
    const limit = Number(url.searchParams.get('limit') ?? pageSize);
    const cursor = url.searchParams.get('cursor');
    const start = cursor === null ? 0 : items.findIndex((item) => item.id === Buffer.from(cursor, 'base64url').toString()) + 1;
    const page = items.slice(start, start + limit);
    const headers: Record<string, string> = {};
    if (start + limit < items.length) {
      const next = new URL(url.pathname + url.search, linkBase ?? `http://${req.headers.host}`);
      next.searchParams.set('cursor', Buffer.from(page.at(-1)?.id ?? '').toString('base64url'));
      headers.Link = `<${next.href}>; rel="next"`;
    }
    json(res, 200, page, headers);
  };
}

let tiny: TinyServer | undefined;
afterEach(async () => {
  await tiny?.close();
  tiny = undefined;
});

function clientFor(url: string) {
  return new ProvenantClient({ baseUrl: url, apiKey: KEY, maxRetries: 0 });
}

describe('a list that pages (contract server)', () => {
  test('await gives every item of every page, in order, as one array', async () => {
    tiny = await startTinyServer(pagingHandler(450));
    const agents = await clientFor(tiny.url).agents.list({ status: 'ACTIVE' });
    assert.ok(Array.isArray(agents));
    assert.equal(agents.length, 450);
    assert.equal(new Set(agents.map((a) => a.id)).size, 450);
    assert.equal(agents[0]?.id, 'item-0450');
    assert.equal(agents.at(-1)?.id, 'item-0001');
    assert.equal(tiny.requests.length, 3);
    assert.equal(tiny.requests[0]?.url, '/api/agents?status=ACTIVE');
    for (const request of tiny.requests.slice(1)) assert.match(request.url, /^\/api\/agents\?status=ACTIVE&cursor=/);
  });

  test('for await fetches a page only when the loop reaches it', async () => {
    tiny = await startTinyServer(pagingHandler(450));
    const seen: string[] = [];
    for await (const agent of clientFor(tiny.url).agents.list()) {
      seen.push(agent.id);
      if (seen.length === 10) break;
    }
    assert.equal(seen.length, 10);
    assert.equal(tiny.requests.length, 1);

    const all: string[] = [];
    for await (const agent of clientFor(tiny.url).agents.list()) all.push(agent.id);
    assert.equal(all.length, 450);
  });

  test('limit is the most items in all: pages no larger than needed, and no page after it', async () => {
    tiny = await startTinyServer(pagingHandler(600, { pageSize: 50 }));
    const sessions = await clientFor(tiny.url).sessions.list({ agentId: 'a1', limit: 250 });
    assert.equal(sessions.length, 250);
    const limits = tiny.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('limit'));
    assert.deepEqual(limits, ['200', '50']);

    const few = await clientFor(tiny.url).sessions.list({ limit: 3 });
    assert.deepEqual(few.map((s) => s.id), ['item-0600', 'item-0599', 'item-0598']);

    for (const limit of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => clientFor(tiny?.url ?? '').agents.list({ limit }), ProvenantError, String(limit));
    }
  });

  test('the next page carries the list\'s own filters and the link\'s cursor, whatever else the link says', async () => {
    tiny = await startTinyServer((req, res) => {
      const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
      json(res, 200, [{ id: cursor ?? 'first' }], cursor ? {} : { Link: '<https://elsewhere.invalid/other?status=WRONG&cursor=c2>; rel="next"' });
    });
    const agents = await clientFor(tiny.url).agents.list({ status: 'ARCHIVED' });
    assert.deepEqual(agents.map((a) => a.id), ['first', 'c2']);
    assert.deepEqual(tiny.requests.map((r) => r.url), ['/api/agents?status=ARCHIVED', '/api/agents?status=ARCHIVED&cursor=c2']);
  });

  test('nothing is fetched until the list is used, and awaiting it twice fetches it once', async () => {
    tiny = await startTinyServer(pagingHandler(5));
    const list = clientFor(tiny.url).apiKeys.list({ includeRevoked: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(tiny.requests.length, 0);
    const first = await list;
    const second = await list;
    assert.equal(first, second);
    assert.equal(tiny.requests.length, 1);
    assert.ok(list instanceof PagedList);
  });

  test('works where a Promise<Agent[]> did: then, catch, finally, Promise.all', async () => {
    tiny = await startTinyServer(pagingHandler(3));
    const client = clientFor(tiny.url);
    const typed: Promise<Agent[]> = client.agents.list();
    assert.equal((await typed).length, 3);
    assert.equal(await client.agents.list().then((agents) => agents.length), 3);
    let finished = false;
    await client.agents.list().finally(() => (finished = true));
    assert.ok(finished);
    const [a, b] = await Promise.all([client.agents.list(), client.audit.list()]);
    assert.equal(a.length + b.length, 6);
  });

  test('the next page is asked of the client\'s own base URL, whatever host or scheme the link names', async () => {
    // A server behind a TLS-terminating proxy sees http:// and its internal host; following that link as written
    // would send the key in clear text, or elsewhere.
    tiny = await startTinyServer(pagingHandler(5, { pageSize: 2, linkBase: 'http://internal.invalid:4000' }));
    const entries = await clientFor(tiny.url).audit.list({ action: 'apikey.create' });
    assert.equal(entries.length, 5);
    assert.equal(tiny.requests.length, 3);
  });

  test('a page that fails rejects the whole await, and ends for await after the pages before it', async () => {
    const pages = pagingHandler(5, { pageSize: 2 });
    tiny = await startTinyServer((req, res) =>
      req.url?.includes('cursor=') ? json(res, 500, { error: 'Boom', code: 'internal_error' }) : pages(req, res),
    );
    const client = clientFor(tiny.url);
    await assert.rejects(client.agents.list(), InternalServerError);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const agent of client.agents.list()) seen.push(agent.id);
    })().catch((e) => e);
    assert.ok(error instanceof InternalServerError, String(error));
    assert.deepEqual(seen, ['item-0005', 'item-0004']);
  });
});

describe('a list that pages (Provenant server)', () => {
  let server: Provenant;
  before(async () => {
    server = await startProvenant();
  });
  after(async () => {
    await server?.stop();
  });

  test('sessions and the audit log beyond one page come back whole, newest first, each once', async () => {
    const account = await newAccount(server.url);
    const client = new ProvenantClient({ baseUrl: server.url, apiKey: account.key });
    const agent = await client.agents.getOrCreate('Paged agent');
    const created: string[] = [];
    for (let i = 0; i < 120; i += 8) {
      const group = Array.from({ length: 8 }, (_, j) => client.sessions.create({ agentId: agent.id, externalId: `s${i + j}` }));
      created.push(...(await Promise.all(group)).map((session) => session.id));
    }

    const all = await client.sessions.list({ agentId: agent.id });
    assert.equal(all.length, 120, 'more than the default page of 50');
    assert.deepEqual(new Set(all.map((s) => s.id)), new Set(created));
    const started = all.map((s) => Date.parse(s.startedAt));
    assert.deepEqual(started, [...started].sort((a, b) => b - a), 'newest first');

    const iterated: string[] = [];
    for await (const session of client.sessions.list({ agentId: agent.id })) iterated.push(session.id);
    assert.deepEqual(iterated, all.map((s) => s.id));
    assert.equal((await client.sessions.list({ agentId: agent.id, limit: 70 })).length, 70);

    const audit = await client.audit.list({ action: 'session.create' });
    assert.equal(audit.length, 120);
    assert.equal(new Set(audit.map((entry) => entry.id)).size, 120);
    const exported: string[] = [];
    for await (const entry of client.audit.export({ action: 'session.create' })) exported.push(entry.id);
    assert.deepEqual(exported, audit.map((entry) => entry.id));
  });
});
