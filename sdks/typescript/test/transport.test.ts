/**
 * Retries, timeouts and error mapping, against tiny real node:http servers that fail on purpose.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { inspect } from 'node:util';

import {
  APIConnectionError,
  APIStatusError,
  APITimeoutError,
  AuthenticationError,
  ConflictError,
  HttpError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  ProvenantClient,
  ProvenantError,
  RateLimitError,
  UnprocessableEntityError,
} from '@provenant/sdk';

import { freePort, json, startTinyServer, type TinyServer } from './helpers/servers.js';

const KEY = 'pk_live_0123456789abcdef0123456789abcdef';
const agent = { id: 'a1', name: 'Bot', slug: 'bot' };

let server: TinyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function clientFor(url: string, options: { timeout?: number; maxRetries?: number } = {}) {
  return new ProvenantClient({ baseUrl: url, apiKey: KEY, ...options });
}

describe('retries', () => {
  test('a GET answered 503 once is retried and succeeds', async () => {
    server = await startTinyServer((_req, res, i) =>
      i === 0 ? json(res, 503, { error: 'Down for a moment', code: 'unavailable' }) : json(res, 200, [agent]),
    );
    const agents = await clientFor(server.url).agents.list();
    assert.deepEqual(agents, [agent]);
    assert.equal(server.requests.length, 2);
  });

  test('a GET whose connection is dropped once is retried and succeeds', async () => {
    server = await startTinyServer((req, res, i) => (i === 0 ? req.socket.destroy() : json(res, 200, agent)));
    const got = await clientFor(server.url).agents.get('a1');
    assert.deepEqual(got, agent);
    assert.equal(server.requests.length, 2);
  });

  test('a DELETE answered 502 is retried', async () => {
    server = await startTinyServer((_req, res, i) => (i === 0 ? json(res, 502, {}) : json(res, 200, { success: true })));
    assert.deepEqual(await clientFor(server.url).apiKeys.revoke('k1'), { success: true });
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.url}`),
      ['DELETE /api/org/keys/k1', 'DELETE /api/org/keys/k1'],
    );
  });

  test('gives up after maxRetries and throws the last error', async () => {
    server = await startTinyServer((_req, res) => json(res, 500, { error: 'Boom', code: 'internal_error' }));
    const error = await clientFor(server.url, { maxRetries: 1 }).agents.list().catch((e) => e);
    assert.ok(error instanceof HttpError);
    assert.equal(error.statusCode, 500);
    assert.equal(error.code, 'internal_error');
    assert.equal(server.requests.length, 2);
  });

  test('maxRetries: 0 sends a failing request once', async () => {
    server = await startTinyServer((_req, res) => json(res, 503, {}));
    await assert.rejects(clientFor(server.url, { maxRetries: 0 }).agents.list(), HttpError);
    assert.equal(server.requests.length, 1);
  });

  test('a POST answered 503 is not repeated', async () => {
    server = await startTinyServer((_req, res) => json(res, 503, { error: 'Down', code: 'unavailable' }));
    await assert.rejects(clientFor(server.url).sessions.create({ agentId: 'a1' }), { statusCode: 503 });
    assert.equal(server.requests.length, 1);
  });

  test('a POST whose connection drops after sending is not repeated', async () => {
    server = await startTinyServer((req) => req.socket.destroy());
    const error = await clientFor(server.url).sessions.addTurn('s1', { role: 'USER', content: 'hi' }).catch((e) => e);
    assert.ok(error instanceof APIConnectionError, String(error));
    assert.equal(server.requests.length, 1);
  });

  test('a POST whose connection was refused is retried once the server is up', async () => {
    const port = await freePort();
    const pending = clientFor(`http://127.0.0.1:${port}`).sessions.create({ agentId: 'a1' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    server = await startTinyServer((_req, res) => json(res, 201, { id: 's1', agentId: 'a1', status: 'ACTIVE' }), port);
    const session = await pending;
    assert.equal(session.id, 's1');
    assert.equal(server.requests.length, 1);
  });

  test('turns that all carry a clientId are safe to resend, so a 503 on them is retried; without one, not', async () => {
    server = await startTinyServer((_req, res, i) => (i === 0 ? json(res, 503, {}) : json(res, 201, [])));
    const client = clientFor(server.url);
    await client.sessions.addTurns('s1', [{ role: 'USER', content: 'a', clientId: 'c1' }, { role: 'USER', content: 'b', clientId: 'c2' }]);
    assert.equal(server.requests.length, 2);
    await server.close();

    server = await startTinyServer((_req, res) => json(res, 503, {}));
    const another = clientFor(server.url);
    await assert.rejects(another.sessions.addTurns('s1', [{ role: 'USER', content: 'a', clientId: 'c1' }, { role: 'USER', content: 'b' }]));
    await assert.rejects(another.sessions.addTurn('s1', { role: 'USER', content: 'a' }));
    assert.equal(server.requests.length, 2);
  });

  test('get-or-create is idempotent, so a 503 on it is retried', async () => {
    server = await startTinyServer((_req, res, i) => (i === 0 ? json(res, 503, {}) : json(res, 200, agent)));
    assert.deepEqual(await clientFor(server.url).agents.getOrCreate('Bot'), agent);
    assert.equal(server.requests.length, 2);
  });

  test('Retry-After on a 429 is honoured', async () => {
    server = await startTinyServer((_req, res, i) =>
      i === 0 ? json(res, 429, { error: 'Slow down', code: 'rate_limited' }, { 'Retry-After': '1' }) : json(res, 200, []),
    );
    const started = Date.now();
    await clientFor(server.url).agents.list();
    const elapsed = Date.now() - started;
    assert.equal(server.requests.length, 2);
    assert.ok(elapsed >= 950, `retried after ${elapsed} ms, Retry-After asked for 1000 ms`);
  });

  test('a POST refused with 429 (a key past its rate limit) is sent again after Retry-After', async () => {
    server = await startTinyServer((_req, res, i) =>
      i === 0
        ? json(res, 429, { error: 'Slow down', code: 'rate_limited' }, { 'Retry-After': '1' })
        : json(res, 201, agent),
    );
    assert.deepEqual(await clientFor(server.url).agents.create({ name: 'Bot', slug: 'bot' }), agent);
    assert.deepEqual(
      server.requests.map((request) => request.method),
      ['POST', 'POST'],
    );
  });

  test('a Retry-After longer than a minute is not waited out: RateLimitError at once', async () => {
    server = await startTinyServer((_req, res) =>
      json(res, 429, { error: 'Slow down', code: 'rate_limited' }, { 'Retry-After': '3600' }),
    );
    const started = Date.now();
    const error = await clientFor(server.url).agents.list().catch((e) => e);
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.code, 'rate_limited');
    assert.equal(server.requests.length, 1);
    assert.ok(Date.now() - started < 1_000);
  });

  test('backoff between retries grows and is jittered', async () => {
    const times: number[] = [];
    server = await startTinyServer((_req, res) => {
      times.push(Date.now());
      json(res, 503, {});
    });
    await assert.rejects(clientFor(server.url, { maxRetries: 2 }).agents.list(), HttpError);
    const [first = 0, second = 0, third = 0] = times;
    // 500 ms then 1000 ms, each shortened by at most a quarter.
    assert.ok(second - first >= 370 && second - first < 900, `first wait ${second - first} ms`);
    assert.ok(third - second >= 740 && third - second < 1_500, `second wait ${third - second} ms`);
  });
});

describe('timeout', () => {
  test('an attempt slower than timeout is aborted with APIConnectionError', async () => {
    server = await startTinyServer((_req, res) => setTimeout(() => json(res, 200, []), 5_000).unref());
    const started = Date.now();
    const error = await clientFor(server.url, { timeout: 300, maxRetries: 0 }).agents.list().catch((e) => e);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof APITimeoutError && error instanceof APIConnectionError, String(error));
    assert.match(error.message, /timed out after 300 ms/);
    assert.equal((error.cause as Error).name, 'TimeoutError');
    assert.ok(elapsed >= 250 && elapsed < 2_000, `gave up after ${elapsed} ms`);
  });

  test('the timeout also covers a body that trickles in', async () => {
    server = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('[');
      setTimeout(() => res.end(']'), 5_000).unref();
    });
    await assert.rejects(clientFor(server.url, { timeout: 300, maxRetries: 0 }).agents.list(), APIConnectionError);
  });

  test('a GET that timed out is retried', async () => {
    server = await startTinyServer((_req, res, i) =>
      i === 0 ? setTimeout(() => json(res, 200, []), 5_000).unref() : json(res, 200, [agent]),
    );
    assert.deepEqual(await clientFor(server.url, { timeout: 300 }).agents.list(), [agent]);
    assert.equal(server.requests.length, 2);
  });
});

describe('errors', () => {
  const cases = [
    [401, AuthenticationError, 'invalid_api_key'],
    [403, PermissionDeniedError, 'forbidden'],
    [404, NotFoundError, 'not_found'],
    [409, ConflictError, 'conflict'],
    [422, UnprocessableEntityError, 'validation_error'],
    [429, RateLimitError, 'rate_limited'],
    [500, InternalServerError, 'internal_error'],
    [503, InternalServerError, 'busy'],
    [400, APIStatusError, 'invalid_json'],
    [410, APIStatusError, 'invitation_expired'],
    [413, APIStatusError, 'payload_too_large'],
  ] as const;
  for (const [status, ErrorClass, code] of cases) {
    test(`${status} becomes ${ErrorClass.name}`, async () => {
      server = await startTinyServer((_req, res) => json(res, status, { error: `Sentence for ${status}`, code }));
      const error = await clientFor(server.url, { maxRetries: 0 }).agents.get('x').catch((e) => e);
      assert.ok(error instanceof ErrorClass);
      assert.ok(error instanceof APIStatusError && error instanceof ProvenantError && error instanceof Error);
      assert.ok(error instanceof HttpError, 'HttpError, the older name, catches it too');
      assert.ok(!(error instanceof APIConnectionError));
      assert.equal(error.name, ErrorClass.name);
      assert.equal(error.statusCode, status);
      assert.equal(error.code, code);
      assert.equal(error.message, `Sentence for ${status}`);
    });
  }

  test('HttpError is APIStatusError under its older name', () => {
    assert.equal(HttpError, APIStatusError);
  });

  test('RateLimitError says how long the server asked to wait; every status error keeps the headers', async () => {
    server = await startTinyServer((_req, res) =>
      json(res, 429, { error: 'Slow down', code: 'too_many_attempts' }, { 'Retry-After': '90', 'X-Request-Id': 'r-1' }),
    );
    const error = await clientFor(server.url).me().catch((e) => e);
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.retryAfter, 90_000);
    assert.equal(error.headers.get('x-request-id'), 'r-1');
  });

  test('422 keeps the per-field details', async () => {
    const details = [{ field: 'name', message: 'must not be empty' }];
    server = await startTinyServer((_req, res) =>
      json(res, 422, { error: 'Invalid request', code: 'validation_error', details }),
    );
    const error = await clientFor(server.url).apiKeys.create({ name: '' }).catch((e) => e);
    assert.ok(error instanceof HttpError);
    assert.equal(error.code, 'validation_error');
    assert.deepEqual(error.details, details);
  });

  test('a body that is not the contract JSON still gives a usable error', async () => {
    server = await startTinyServer((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    });
    const error = await clientFor(server.url, { maxRetries: 0 }).agents.list().catch((e) => e);
    assert.ok(error instanceof HttpError);
    assert.equal(error.statusCode, 502);
    assert.equal(error.code, 'unknown_error');
    assert.equal(error.message, 'HTTP 502');
  });

  test('a server echoing the key cannot put it in an error message', async () => {
    server = await startTinyServer((req, res) =>
      json(res, 401, { error: `Bad key: ${req.headers.authorization}`, code: 'invalid_api_key' }),
    );
    const error = await clientFor(server.url).me().catch((e) => e);
    assert.ok(error instanceof AuthenticationError);
    assert.ok(!error.message.includes(KEY), error.message);
    assert.ok(!inspect(error).includes(KEY));
    assert.ok(!String(error.stack).includes(KEY));
  });

  test('connection errors name the target but not the key', async () => {
    const port = await freePort();
    const error = await clientFor(`http://127.0.0.1:${port}`, { maxRetries: 0 }).agents.list().catch((e) => e);
    assert.ok(error instanceof APIConnectionError);
    assert.match(error.message, new RegExp(`GET http://127.0.0.1:${port}/api/agents`));
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(!inspect(error).includes(KEY));
  });
});

describe('requests', () => {
  test('carry the key as a Bearer token and a provenant-node User-Agent', async () => {
    server = await startTinyServer((_req, res) => json(res, 200, []));
    await clientFor(server.url).apiKeys.list({ includeRevoked: true });
    const [request] = server.requests;
    assert.equal(request?.url, '/api/org/keys?includeRevoked=true');
    assert.equal(request?.headers.authorization, `Bearer ${KEY}`);
    assert.match(request?.headers['user-agent'] ?? '', /^provenant-node\/\d+\.\d+\.\d+$/);
  });

  test('leave out query parameters that were not given, and escape path ids', async () => {
    server = await startTinyServer((_req, res) => json(res, 200, []));
    const client = clientFor(`${server.url}/`);
    await client.agents.list();
    await client.agents.list({ status: 'ARCHIVED' });
    await client.sessions.get('a/b?c');
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ['/api/agents', '/api/agents?status=ARCHIVED', '/api/sessions/a%2Fb%3Fc'],
    );
  });
});

describe('audit.export', () => {
  const entry = (i: number) => ({ id: `e${i}`, action: 'agent.create' });

  test('yields each NDJSON line as it arrives, lines split across chunks included', async () => {
    server = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      const text = [0, 1, 2].map((i) => JSON.stringify(entry(i))).join('\n') + '\n';
      res.write(text.slice(0, 10));
      setTimeout(() => res.end(text.slice(10)), 50);
    });
    const seen = [];
    for await (const item of clientFor(server.url).audit.export({ action: 'agent.create', from: new Date(0) })) seen.push(item.id);
    assert.deepEqual(seen, ['e0', 'e1', 'e2']);
    assert.equal(server.requests[0]?.url, '/api/audit/export?action=agent.create&from=1970-01-01T00%3A00%3A00.000Z');
  });

  test('a long export is not cut off by the timeout while lines keep coming; a silent one is', async () => {
    server = await startTinyServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      let i = 0;
      const silentAfter = req.url?.includes('silent') ? 2 : Infinity;
      const timer = setInterval(() => {
        if (i === 8) {
          clearInterval(timer);
          res.end();
        } else if (i < silentAfter) res.write(`${JSON.stringify(entry(i))}\n`);
        i++;
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    const client = clientFor(server.url, { timeout: 250 });
    const all = [];
    for await (const item of client.audit.export()) all.push(item);
    assert.equal(all.length, 8, 'eight lines over 800 ms, with a 250 ms timeout');

    const some: unknown[] = [];
    const error = await (async () => {
      for await (const item of client.audit.export({ action: 'silent' })) some.push(item);
    })().catch((e) => e);
    assert.ok(error instanceof APIConnectionError, String(error));
    assert.equal(some.length, 2);
  });

  test('an error status before the stream is the usual error', async () => {
    server = await startTinyServer((_req, res) => json(res, 403, { error: 'Only OWNER and ADMIN read the audit log.', code: 'forbidden' }));
    const iterator = clientFor(server.url).audit.export()[Symbol.asyncIterator]();
    await assert.rejects(iterator.next(), PermissionDeniedError);
  });
});
