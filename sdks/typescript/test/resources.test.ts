/**
 * The resources added for the one SDK surface, against a real Provenant server: agents update/archive, sessions
 * list/update/delete/addTurns, team members and invitations, the audit log, and keys' access, roll and usage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  ProvenantClient,
  UnprocessableEntityError,
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

/** Invites someone as `role` and accepts as them; their client uses a key they created. */
async function teammate(owner: ProvenantClient, role: 'ADMIN' | 'MEMBER' | 'VIEWER') {
  const invitation = await owner.invitations.create({ email: `${unique('mate')}@example.com`, role });
  const token = new URL(invitation.inviteLink, server.url).searchParams.get('token') ?? invitation.inviteLink.split('/').pop();
  const accepted = await call(server.url, 'POST', '/api/auth/accept-invitation', {
    body: { token, name: 'Team Mate', password: `pw-${randomUUID()}` },
  });
  assert.equal(accepted.status, 201, JSON.stringify(accepted.json));
  const key = await call(server.url, 'POST', '/api/org/keys', { token: accepted.json.token, body: { name: 'mate' } });
  return { user: accepted.json.user as { id: string }, client: new ProvenantClient({ baseUrl: server.url, apiKey: key.json.key }) };
}

describe('agents', () => {
  test('update changes the fields given; archive sets ARCHIVED and the list filters on it', async () => {
    const { client } = await setup();
    const agent = await client.agents.create({ name: 'Before', slug: unique('agent'), tags: ['a'] });
    const updated = await client.agents.update(agent.id, { name: 'After', description: 'Now described' });
    assert.equal(updated.name, 'After');
    assert.equal(updated.description, 'Now described');
    assert.deepEqual(updated.tags, ['a']);
    assert.deepEqual(await client.agents.archive(agent.id), { success: true });
    assert.equal((await client.agents.get(agent.id)).status, 'ARCHIVED');
    assert.deepEqual((await client.agents.list({ status: 'ARCHIVED' })).map((a) => a.id), [agent.id]);
    assert.deepEqual(await client.agents.list({ status: 'ACTIVE' }), []);
  });

  test('a 422 from the server is an UnprocessableEntityError naming the field', async () => {
    const { client } = await setup();
    const error = await client.agents.create({ name: '', slug: 'Not A Slug' }).catch((e) => e);
    assert.ok(error instanceof UnprocessableEntityError, String(error));
    assert.equal(error.code, 'validation_error');
    assert.ok(error.details?.some((detail) => detail.field.includes('slug')), JSON.stringify(error.details));
  });
});

describe('sessions', () => {
  test('list filters by agent and status, newest first; update ends the old way; delete removes', async () => {
    const { client } = await setup();
    const agent = await client.agents.getOrCreate('Lister');
    const other = await client.agents.getOrCreate('Other');
    const first = await client.sessions.create({ agentId: agent.id });
    const second = await client.sessions.create({ agentId: agent.id });
    await client.sessions.create({ agentId: other.id });

    assert.deepEqual((await client.sessions.list({ agentId: agent.id })).map((s) => s.id), [second.id, first.id]);
    const ended = await client.sessions.update(first.id, { status: 'COMPLETED', endedAt: new Date() });
    assert.equal(ended.status, 'COMPLETED');
    assert.deepEqual((await client.sessions.list({ agentId: agent.id, status: 'COMPLETED' })).map((s) => s.id), [first.id]);

    assert.deepEqual(await client.sessions.delete(second.id), { success: true });
    await assert.rejects(client.sessions.get(second.id), NotFoundError);
  });

  test('q finds sessions by the text of their turns', async () => {
    const { client } = await setup();
    const agent = await client.agents.getOrCreate('Searcher');
    const hit = await client.sessions.create({ agentId: agent.id });
    const miss = await client.sessions.create({ agentId: agent.id });
    const word = `zebra${randomUUID().slice(0, 6)}`;
    await client.sessions.addTurn(hit.id, { role: 'USER', content: `Have you seen a ${word}?` });
    await client.sessions.addTurn(miss.id, { role: 'USER', content: 'Nothing to see' });
    assert.deepEqual((await client.sessions.list({ q: word.toUpperCase() })).map((s) => s.id), [hit.id]);
  });

  test('addTurns stores a batch in order, all or nothing, and a resent batch once', async () => {
    const { client } = await setup();
    const agent = await client.agents.getOrCreate('Batcher');
    const session = await client.sessions.create({ agentId: agent.id });
    const batch = [
      { role: 'USER' as const, content: 'one', clientId: randomUUID() },
      { role: 'ASSISTANT' as const, content: 'two', clientId: randomUUID() },
    ];
    const stored = await client.sessions.addTurns(session.id, batch);
    assert.deepEqual(stored.map((t) => t.content), ['one', 'two']);
    const again = await client.sessions.addTurns(session.id, batch);
    assert.deepEqual(again.map((t) => t.id), stored.map((t) => t.id));

    const error = await client.sessions
      .addTurns(session.id, [{ role: 'USER', content: 'three' }, { role: 'NOPE' as 'USER', content: 'four' }])
      .catch((e) => e);
    assert.ok(error instanceof UnprocessableEntityError, String(error));
    assert.ok(error.details?.some((detail) => detail.field.startsWith('[1]')), JSON.stringify(error.details));
    assert.deepEqual((await client.sessions.get(session.id)).turns.map((t) => t.content), ['one', 'two']);
  });
});

describe('members and invitations', () => {
  test('invite, list pending, cancel; members list, change role, remove', async () => {
    const { account, client } = await setup();
    const email = `${unique('invitee')}@example.com`;
    const invitation = await client.invitations.create({ email, role: 'VIEWER' });
    assert.equal(invitation.role, 'VIEWER');
    assert.match(invitation.inviteLink, /^https?:\/\//);
    assert.deepEqual((await client.invitations.list()).map((i) => i.email), [email]);
    assert.deepEqual(await client.invitations.cancel(invitation.id), { success: true });
    assert.deepEqual(await client.invitations.list(), []);

    const mate = await teammate(client, 'MEMBER');
    const members = await client.members.list();
    assert.deepEqual(new Set(members.map((m) => m.id)), new Set([account.user.id, mate.user.id]));
    assert.equal((await client.members.changeRole(mate.user.id, 'VIEWER')).role, 'VIEWER');
    assert.equal((await mate.client.me()).role, 'VIEWER', "a key acts with its creator's current role");
    assert.deepEqual(await client.members.remove(mate.user.id), { success: true });
    await assert.rejects(mate.client.me(), { name: 'AuthenticationError', code: 'api_key_owner_removed' });
  });

  test('a MEMBER may not invite: PermissionDeniedError', async () => {
    const { client } = await setup();
    const mate = await teammate(client, 'MEMBER');
    await assert.rejects(mate.client.invitations.create({ email: `${unique('x')}@example.com` }), PermissionDeniedError);
  });
});

describe('audit', () => {
  test('list filters by action and resource; export streams the same entries', async () => {
    const { client } = await setup();
    const agent = await client.agents.create({ name: 'Audited', slug: unique('audited') });
    await client.agents.update(agent.id, { description: 'changed' });
    const entries = await client.audit.list({ resourceType: 'agent', resourceId: agent.id });
    assert.deepEqual(entries.map((e) => e.action), ['agent.update', 'agent.create']);
    assert.deepEqual((await client.audit.list({ action: 'agent.create', from: new Date(Date.now() - 60_000) })).map((e) => e.resourceId), [agent.id]);
    assert.deepEqual(await client.audit.list({ action: 'agent.create', to: new Date(Date.now() - 3_600_000) }), []);

    const exported = [];
    for await (const entry of client.audit.export({ resourceType: 'agent', resourceId: agent.id })) exported.push(entry);
    assert.deepEqual(exported.map((e) => e.id), entries.map((e) => e.id));
  });
});

describe('apiKeys: access, roll, usage', () => {
  test('a read key reads but may not write; an ingest key ingests but may not read the org', async () => {
    const { client } = await setup();
    const reader = await client.apiKeys.create({ name: 'reader', access: 'read' });
    const ingester = await client.apiKeys.create({ name: 'ingester', access: 'ingest' });
    assert.equal(reader.access, 'read');
    const readOnly = new ProvenantClient({ baseUrl: server.url, apiKey: reader.key });
    const ingestOnly = new ProvenantClient({ baseUrl: server.url, apiKey: ingester.key });

    await readOnly.agents.list();
    await assert.rejects(readOnly.agents.create({ name: 'No', slug: unique('no') }), PermissionDeniedError);
    const agent = await ingestOnly.agents.getOrCreate('Ingested');
    const session = await ingestOnly.sessions.create({ agentId: agent.id });
    await ingestOnly.sessions.addTurn(session.id, { role: 'USER', content: 'hi' });
    await assert.rejects(ingestOnly.apiKeys.list(), PermissionDeniedError);
  });

  test('roll gives a new key at once; the old one works through its grace period, and a revoked key cannot roll', async () => {
    const { client } = await setup();
    const old = await client.apiKeys.create({ name: 'deploy', access: 'ingest' });
    const rolled = await client.apiKeys.roll(old.id, { graceSeconds: 3600 });
    assert.match(rolled.key, /^pk_live_[0-9a-f]{32}$/);
    assert.equal(rolled.name, 'deploy');
    assert.equal(rolled.access, 'ingest');
    const listed = await client.apiKeys.list();
    assert.equal(listed.find((k) => k.id === old.id)?.rolledToId, rolled.id);
    assert.equal((await new ProvenantClient({ baseUrl: server.url, apiKey: old.key }).me()).apiKey?.id, old.id);
    assert.equal((await new ProvenantClient({ baseUrl: server.url, apiKey: rolled.key }).me()).apiKey?.id, rolled.id);

    const now = await client.apiKeys.roll(rolled.id);
    await assert.rejects(new ProvenantClient({ baseUrl: server.url, apiKey: rolled.key }).me(), AuthenticationError);
    await client.apiKeys.revoke(now.id);
    await assert.rejects(client.apiKeys.roll(now.id), ConflictError);
  });

  test('a key may be created with a rate limit; roll keeps it', async () => {
    const { client } = await setup();
    const limited = await client.apiKeys.create({ name: 'busy-agent', rateLimitPerMinute: 600 });
    const unlimited = await client.apiKeys.create({ name: 'free-agent' });
    assert.equal(limited.rateLimitPerMinute, 600);
    assert.equal(unlimited.rateLimitPerMinute, null);
    assert.equal((await client.apiKeys.roll(limited.id)).rateLimitPerMinute, 600);
  });

  test('usage lists the last days oldest first, days without use as 0', async () => {
    const { account, client } = await setup();
    await client.me();
    const days = await client.apiKeys.usage(account.keyId, { days: 7 });
    assert.equal(days.length, 7);
    assert.ok(days.every((day) => /^\d{4}-\d{2}-\d{2}$/.test(day.date) && Number.isInteger(day.requests)));
    assert.deepEqual(days.map((d) => d.date), [...days.map((d) => d.date)].sort());
    assert.equal((await client.apiKeys.usage(account.keyId)).length, 30);
  });
});
