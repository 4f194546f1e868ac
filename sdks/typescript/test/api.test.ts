/**
 * The whole surface against a real Provenant server, with credentials obtained as a user would.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';

import {
  AuthenticationError,
  ConflictError,
  HttpError,
  NotFoundError,
  PermissionDeniedError,
  ProvenantClient,
} from '@provenant/sdk';

import { call, newAccount, startProvenant, unique, type Account, type Provenant } from './helpers/servers.js';

let server: Provenant;
before(async () => {
  server = await startProvenant();
});
after(async () => {
  await server?.stop();
});

async function setup(): Promise<{ account: Account; client: ProvenantClient }> {
  const account = await newAccount(server.url);
  return { account, client: new ProvenantClient({ baseUrl: server.url, apiKey: account.key }) };
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('me', () => {
  test('names the user, the org and the key in use', async () => {
    const { account, client } = await setup();
    const me = await client.me();
    assert.equal(me.id, account.user.id);
    assert.equal(me.email, account.user.email);
    assert.equal(me.role, 'OWNER');
    assert.equal(me.orgId, account.org.id);
    assert.deepEqual(me.org, account.org);
    assert.equal(me.authMethod, 'api_key');
    assert.deepEqual(me.apiKey, { id: account.keyId, name: 'ts-sdk-tests' });
  });

  test('says what the key may do: for an OWNER, all but what needs the OWNER in person', async () => {
    const { client } = await setup();
    const { permissions } = await client.me();
    assert.ok(permissions?.actions.includes('invite'));
    assert.ok(!permissions?.actions.includes('manage_org_settings'));
    assert.deepEqual(permissions?.grantableRoles, ['ADMIN', 'MEMBER', 'VIEWER']);
    assert.deepEqual(permissions?.roleChanges.VIEWER, ['OWNER', 'ADMIN', 'MEMBER']);
    assert.deepEqual(permissions?.passwordResetRoles, []);
  });
});

describe('agents', () => {
  test('create, get, list', async () => {
    const { account, client } = await setup();
    const slug = unique('agent');
    const created = await client.agents.create({
      name: 'Support Bot',
      slug,
      description: 'Answers tickets',
      tags: ['support', 'prod'],
      modelFamily: 'gpt-4o',
    });
    assert.equal(created.slug, slug);
    assert.equal(created.orgId, account.org.id);
    assert.equal(created.status, 'ACTIVE');
    assert.deepEqual(created.tags, ['support', 'prod']);
    assert.equal(created.createdById, account.user.id);
    assert.match(created.createdAt, ISO_UTC);

    assert.deepEqual(await client.agents.get(created.id), created);
    const listed = await client.agents.list();
    assert.deepEqual(listed.map((a) => a.id), [created.id]);
    assert.deepEqual(await client.agents.list({ status: 'ARCHIVED' }), []);
    assert.deepEqual((await client.agents.list({ status: 'ACTIVE' })).map((a) => a.id), [created.id]);
  });

  test('getOrCreate returns the same agent for the same name', async () => {
    const { client } = await setup();
    const name = `Research Agent ${randomUUID().slice(0, 8)}`;
    const first = await client.agents.getOrCreate(name, { description: 'first', tags: ['x'] });
    const second = await client.agents.getOrCreate(name);
    assert.equal(second.id, first.id);
    assert.equal(first.name, name);
    assert.equal((await client.agents.list()).length, 1);
  });

  test('an agent created without a slug is the one getOrCreate finds: the server derives it', async () => {
    const { client } = await setup();
    const created = await client.agents.create({ name: 'Straße Bot' });
    assert.equal(created.slug, 'strasse-bot');
    assert.equal((await client.agents.getOrCreate('Straße Bot')).id, created.id);
  });

  test('a duplicate slug is a ConflictError (409)', async () => {
    const { client } = await setup();
    const slug = unique('dup');
    await client.agents.create({ name: 'One', slug });
    const error = await client.agents.create({ name: 'Two', slug }).catch((e) => e);
    assert.ok(error instanceof ConflictError, String(error));
    assert.equal(error.statusCode, 409);
    assert.equal(typeof error.code, 'string');
    assert.ok(error.message.length > 0);
  });

  test('an unknown id, or another org\'s, is a NotFoundError (404)', async () => {
    const { client } = await setup();
    const other = await setup();
    const theirs = await other.client.agents.create({ name: 'Theirs', slug: unique('theirs') });
    for (const id of [randomUUID(), theirs.id]) {
      const error = await client.agents.get(id).catch((e) => e);
      assert.ok(error instanceof NotFoundError, String(error));
      assert.equal(error.statusCode, 404);
    }
  });

  test('an invalid body is an HttpError 422 with details', async () => {
    const { client } = await setup();
    const error = await client.agents.create({ name: '', slug: '' }).catch((e) => e);
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.statusCode, 422);
    assert.equal(error.code, 'validation_error');
    assert.ok(Array.isArray(error.details) && error.details.length > 0);
  });
});

describe('sessions', () => {
  test('create, add turns, get with turns in order, end', async () => {
    const { client } = await setup();
    const agent = await client.agents.getOrCreate('Session Agent');
    const session = await client.agents.createSession(agent.id, {
      externalId: 'conv-1',
      userId: 'end-user-7',
      metadata: { channel: 'web' },
      tags: ['beta'],
    });
    assert.equal(session.agentId, agent.id);
    assert.equal(session.status, 'ACTIVE');
    assert.equal(session.externalId, 'conv-1');
    assert.deepEqual(session.metadata, { channel: 'web' });

    const user = await client.sessions.addTurn(session.id, { role: 'USER', content: 'Where is my order?' });
    const assistant = await client.sessions.addTurn(session.id, {
      role: 'ASSISTANT',
      content: [{ type: 'text', text: 'Looking it up.' }],
      toolCalls: [{ name: 'lookup_order', arguments: { id: 42 } }],
      latencyMs: 812,
      inputTokens: 120,
      outputTokens: 18,
    });
    assert.equal(user.sessionId, session.id);
    assert.equal(assistant.latencyMs, 812);

    const fetched = await client.sessions.get(session.id);
    assert.deepEqual(fetched.turns.map((t) => t.id), [user.id, assistant.id]);
    assert.equal(fetched.turns[0]?.content, 'Where is my order?');
    assert.deepEqual(fetched.turns[1]?.content, [{ type: 'text', text: 'Looking it up.' }]);

    const ended = await client.sessions.end(session.id, { status: 'COMPLETED', totalTokens: 138, totalLatencyMs: 900 });
    assert.equal(ended.status, 'COMPLETED');
    assert.equal(ended.totalTokens, 138);
    assert.match(ended.endedAt ?? '', ISO_UTC);

    const error = await client.sessions.addTurn(session.id, { role: 'USER', content: 'one more' }).catch((e) => e);
    assert.ok(error instanceof ConflictError, String(error));
    assert.equal(error.code, 'session_ended');
  });

  test('sessions.create and end without a status', async () => {
    const { client } = await setup();
    const agent = await client.agents.create({ name: 'Plain', slug: unique('plain') });
    const session = await client.sessions.create({ agentId: agent.id });
    const ended = await client.sessions.end(session.id);
    assert.notEqual(ended.status, 'ACTIVE');
    assert.ok(ended.endedAt);
  });

  test('an unknown session is a NotFoundError', async () => {
    const { client } = await setup();
    await assert.rejects(client.sessions.get(randomUUID()), NotFoundError);
  });
});

describe('apiKeys', () => {
  test('create returns the key once, list never does, revoke ends it at once', async () => {
    const { account, client } = await setup();
    const expiresAt = new Date(Date.now() + 86_400_000);
    const created = await client.apiKeys.create({ name: 'ci', expiresAt });
    assert.match(created.key, /^pk_live_[0-9a-f]{32}$/);
    assert.equal(created.keyPrefix, created.key.slice(8, 16));
    assert.equal(created.isActive, true);
    assert.ok(Math.abs(Date.parse(created.expiresAt ?? '') - expiresAt.getTime()) < 1_000, created.expiresAt ?? 'null');
    assert.equal(created.user.id, account.user.id);

    const listed = await client.apiKeys.list();
    assert.deepEqual(listed.map((k) => k.id), [created.id, account.keyId]);
    assert.ok(listed.every((k) => !('key' in k)));

    const newClient = new ProvenantClient({ baseUrl: server.url, apiKey: created.key });
    assert.equal((await newClient.me()).apiKey?.id, created.id);

    assert.deepEqual(await client.apiKeys.revoke(created.id), { success: true });
    assert.deepEqual(await client.apiKeys.revoke(created.id), { success: true });
    assert.deepEqual((await client.apiKeys.list()).map((k) => k.id), [account.keyId]);
    const all = await client.apiKeys.list({ includeRevoked: true });
    const revoked = all.find((k) => k.id === created.id);
    assert.equal(revoked?.isActive, false);
    assert.match(revoked?.revokedAt ?? '', ISO_UTC);

    const error = await newClient.me().catch((e) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.statusCode, 401);
    assert.equal(error.code, 'api_key_revoked');
    assert.ok(!error.message.includes(created.key));
    assert.ok(!inspect(error).includes(created.key));
  });

  test('revoking an unknown key is a NotFoundError', async () => {
    const { client } = await setup();
    await assert.rejects(client.apiKeys.revoke(randomUUID()), NotFoundError);
  });

  test('an expiry in the past is refused with 422', async () => {
    const { client } = await setup();
    const error = await client.apiKeys.create({ name: 'old', expiresAt: new Date(Date.now() - 60_000) }).catch((e) => e);
    assert.ok(error instanceof HttpError);
    assert.equal(error.statusCode, 422);
  });
});

describe('authentication errors', () => {
  test('an unknown key is an AuthenticationError that does not repeat the key', async () => {
    const key = `pk_live_${randomUUID().replace(/-/g, '')}`;
    const client = new ProvenantClient({ baseUrl: server.url, apiKey: key });
    const error = await client.agents.list().catch((e) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.statusCode, 401);
    assert.equal(error.code, 'invalid_api_key');
    for (const text of [error.message, String(error.stack), inspect(error), inspect(client), JSON.stringify(client)]) {
      assert.ok(!text.includes(key), text);
    }
  });

  test('a malformed key is invalid_api_key, and a non-key token invalid_token', async () => {
    const malformed = new ProvenantClient({ baseUrl: server.url, apiKey: 'pk_live_NOT-HEX' });
    await assert.rejects(malformed.me(), { name: 'AuthenticationError', code: 'invalid_api_key' });
    const garbage = new ProvenantClient({ baseUrl: server.url, apiKey: 'not-a-jwt' });
    await assert.rejects(garbage.me(), { name: 'AuthenticationError', code: 'invalid_token' });
  });

  test('a VIEWER\'s key may read but not write: PermissionDeniedError (403)', async () => {
    const { account, client } = await setup();
    const invited = await call(server.url, 'POST', '/api/org/invitations', {
      token: account.token,
      body: { email: `${unique('viewer')}@example.com`, role: 'VIEWER' },
    });
    assert.equal(invited.status, 201, `POST /api/org/invitations answered ${invited.status}: ${JSON.stringify(invited.json)}`);
    const invitationToken = new URL(invited.json.inviteLink, server.url).searchParams.get('token')
      ?? String(invited.json.inviteLink).split('/').pop();
    const accepted = await call(server.url, 'POST', '/api/auth/accept-invitation', {
      body: { token: invitationToken, name: 'Vera Viewer', password: `pw-${randomUUID()}` },
    });
    assert.equal(accepted.status, 201, `accept-invitation answered ${accepted.status}: ${JSON.stringify(accepted.json)}`);
    const key = await call(server.url, 'POST', '/api/org/keys', { token: accepted.json.token, body: { name: 'viewer' } });
    assert.equal(key.status, 201);

    const viewer = new ProvenantClient({ baseUrl: server.url, apiKey: key.json.key });
    assert.equal((await viewer.me()).role, 'VIEWER');
    const agent = await client.agents.create({ name: 'Owned', slug: unique('owned') });
    assert.equal((await viewer.agents.get(agent.id)).id, agent.id);
    const error = await viewer.agents.create({ name: 'Nope', slug: unique('nope') }).catch((e) => e);
    assert.ok(error instanceof PermissionDeniedError, String(error));
    assert.equal(error.statusCode, 403);
    assert.equal(error.code, 'forbidden');
  });
});
