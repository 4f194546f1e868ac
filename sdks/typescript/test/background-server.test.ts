/**
 * Background mode against the real server: turns arrive in order, survive a server crash and restart exactly
 * once, a lost answer is not stored twice, the bound holds, and a program that just ends still delivers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { ProvenantClient, type ClientOptions, type TurnCreateParams } from '@provenant/sdk';

import {
  freePort,
  newAccount,
  startAnswerLosingProxy,
  startProvenant,
  type Provenant,
  type TinyServer,
} from './helpers/servers.js';

let server: Provenant;
before(async () => {
  server = await startProvenant();
});
after(async () => {
  await server?.stop();
});

let client: ProvenantClient | undefined;
let proxy: TinyServer | undefined;
afterEach(async () => {
  await client?.shutdown({ timeout: 2_000 });
  client = undefined;
  await proxy?.close();
  proxy = undefined;
});

async function setup(options: ClientOptions = {}, baseUrl = server.url) {
  const account = await newAccount(server.url);
  const admin = new ProvenantClient({ baseUrl: server.url, apiKey: account.key });
  const agent = await admin.agents.getOrCreate('Background agent');
  client = new ProvenantClient({ baseUrl, apiKey: account.key, ...options });
  return { account, admin, agent, client };
}

const turn = (i: number): TurnCreateParams => ({ role: i % 2 ? 'ASSISTANT' : 'USER', content: `turn ${i}` });
const range = (n: number) => Array.from({ length: n }, (_, i) => `turn ${i}`);

describe('background mode (Provenant server)', () => {
  test('turns logged across several batches are stored in order, each once, and the session is ended', async () => {
    const { admin, agent, client } = await setup();
    const session = client.session(agent, { externalId: 'conv-bg', tags: ['bg'] });
    for (let i = 0; i < 250; i++) {
      session.logTurn(turn(i));
      if (i % 60 === 59) await sleep(20); // let batches leave while the agent goes on
    }
    assert.equal(await session.end({ status: 'COMPLETED' }), true);

    assert.ok(session.id);
    const stored = await admin.sessions.get(session.id);
    assert.equal(stored.status, 'COMPLETED');
    assert.equal(stored.externalId, 'conv-bg');
    assert.deepEqual(stored.turns.map((t) => t.content), range(250));
    assert.equal(new Set(stored.turns.map((t) => t.clientId)).size, 250);
    assert.equal(client.droppedTurns, 0);
  });

  test('client.logTurn adds to a session that already exists', async () => {
    const { admin, agent, client } = await setup();
    const existing = await admin.sessions.create({ agentId: agent.id });
    for (let i = 0; i < 3; i++) client.logTurn(existing.id, turn(i));
    assert.equal(await client.flush(), true);
    assert.deepEqual((await admin.sessions.get(existing.id)).turns.map((t) => t.content), range(3));
  });

  for (const [refusal, status] of [['ended', 409], ['deleted', 404]] as const) {
    test(`a session ${refusal} (${status}) takes no more turns and nothing more is sent, as in the Python SDK`, async () => {
      const { admin, agent, client } = await setup();
      const existing = await admin.sessions.create({ agentId: agent.id });
      if (refusal === 'ended') await admin.sessions.end(existing.id);
      else await admin.sessions.delete(existing.id);
      const realFetch = globalThis.fetch;
      let batches = 0;
      globalThis.fetch = (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (url.endsWith('/turns')) batches++;
        return realFetch(input, init);
      };
      try {
        for (let i = 0; i < 3; i++) {
          client.logTurn(existing.id, turn(i));
          assert.equal(await client.flush(), true);
        }
      } finally {
        globalThis.fetch = realFetch;
      }
      assert.equal(client.droppedTurns, 3);
      assert.equal(batches, 1);
    });
  }

  test('a batch whose answer was lost on the way back is resent and stored once', async () => {
    let lost = 0;
    proxy = await startAnswerLosingProxy(server.url, (req) => req.url.endsWith('/turns') && lost++ < 2);
    const { admin, agent, client } = await setup({}, proxy.url);
    const session = client.session(agent);
    for (let i = 0; i < 40; i++) session.logTurn(turn(i));
    assert.equal(await session.end(), true);
    assert.equal(lost, 3, 'two answers lost, then one delivered');
    assert.deepEqual((await admin.sessions.get(session.id ?? '')).turns.map((t) => t.content), range(40));
  });

  test('the server crashes mid-run and comes back: every turn accepted is stored once, in order', async () => {
    const { admin, agent, client } = await setup({ flushAt: 20, flushInterval: 100 });
    const session = client.session(agent);
    let logged = 0;
    const logFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        for (let i = 0; i < 10; i++) session.logTurn(turn(logged++));
        await sleep(10);
      }
    };
    await logFor(700);
    await server.crash();
    await logFor(700); // queued while nothing answers
    const restarting = server.restart();
    await logFor(300);
    await restarting;
    assert.equal(await session.end({}, { timeout: 30_000 }), true);

    assert.equal(client.droppedTurns, 0);
    const stored = (await admin.sessions.get(session.id ?? '')).turns.map((t) => t.content);
    assert.equal(stored.length, logged);
    assert.deepEqual(stored, range(logged));
  });

  test('while nothing answers, the queue holds maxQueuedTurns turns and counts the rest; the kept ones arrive', async () => {
    // The client's address answers nothing until a proxy to the server starts listening there.
    const port = await freePort();
    const { admin, agent, client } = await setup({ maxQueuedTurns: 50 }, `http://127.0.0.1:${port}`);
    const existing = await admin.sessions.create({ agentId: agent.id });
    for (let i = 0; i < 80; i++) client.logTurn(existing.id, turn(i));
    assert.equal(client.droppedTurns, 30);
    await client.flush({ timeout: 300 });
    proxy = await startAnswerLosingProxy(server.url, () => false, port);
    assert.equal(await client.flush({ timeout: 30_000 }), true);
    assert.deepEqual((await admin.sessions.get(existing.id)).turns.map((t) => t.content), range(50));
    assert.equal(client.droppedTurns, 30);
  });
});

describe('a program that logs turns and just ends', () => {
  const script = fileURLToPath(new URL('./fixtures/exit-flush.js', import.meta.url));

  function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
    const started = Date.now();
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - started })));
  }

  test('delivers its turns at exit (beforeExit), then exits by itself', async () => {
    const account = await newAccount(server.url);
    const admin = new ProvenantClient({ baseUrl: server.url, apiKey: account.key });
    const agent = await admin.agents.getOrCreate('Exit agent');
    const result = await run({ PROVENANT_URL: server.url, PROVENANT_API_KEY: account.key, AGENT_ID: agent.id, TURNS: '150' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');

    const [session, ...others] = await admin.sessions.list({ agentId: agent.id });
    assert.equal(others.length, 0);
    assert.equal(session?.status, 'ACTIVE', 'not ended: the program never called end()');
    assert.deepEqual((await admin.sessions.get(session?.id ?? '')).turns.map((t) => t.content), range(150));
  });

  test('with the server unreachable, it exits after flushTimeout and says what it dropped', async () => {
    const port = await freePort();
    const result = await run({
      PROVENANT_URL: `http://127.0.0.1:${port}`,
      PROVENANT_API_KEY: 'pk_live_0123456789abcdef0123456789abcdef',
      AGENT_ID: 'agent-1',
      TURNS: '5',
      FLUSH_TIMEOUT: '1000',
      END: '1',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.ms < 8_000, `took ${result.ms} ms`);
    assert.match(result.stderr, /ProvenantWarning: 5 turn\(s\) could not be sent/);
  });
});
