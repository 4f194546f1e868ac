/**
 * Trusted CI: with no API key, the client exchanges the CI provider's ID token for a short-lived key, and again
 * shortly before it expires, in request and background modes. Against the real server and a stand-in for GitHub
 * Actions' token request URL on loopback.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';

import { AuthenticationError, PermissionDeniedError, ProvenantClient, ProvenantError } from '@provenant/sdk';

import { startCiProvider, type CiProvider } from './helpers/ci-provider.js';
import { call, newAccount, startProvenant, type Account, type Provenant } from './helpers/servers.js';

const CI_VARIABLES = [
  'PROVENANT_API_KEY',
  'PROVENANT_ID_TOKEN',
  'PROVENANT_OIDC_AUDIENCE',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
];

let server: Provenant;
before(async () => {
  server = await startProvenant();
});
after(async () => {
  await server?.stop();
});

let provider: CiProvider | undefined;
afterEach(async () => {
  for (const name of CI_VARIABLES) delete process.env[name];
  mock.timers.reset();
  await provider?.close();
  provider = undefined;
});

async function trusted(fields: Record<string, unknown> = {}): Promise<{ account: Account; ci: CiProvider; policyId: string }> {
  const account = await newAccount(server.url);
  const ci = (provider = await startCiProvider());
  const created = await call(server.url, 'POST', '/api/org/trust-policies', { token: account.token, body: ci.policy(fields) });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return { account, ci, policyId: created.json.id };
}

function inGitHubActions(ci: CiProvider): void {
  Object.assign(process.env, ci.env());
}

async function ephemeralKeys(account: Account): Promise<{ id: string; ephemeral: boolean }[]> {
  const keys = await call(server.url, 'GET', '/api/org/keys', { token: account.token });
  return keys.json.filter((key: { ephemeral: boolean }) => key.ephemeral);
}

describe('trusted CI', () => {
  test('a client with no key in GitHub Actions exchanges the job\'s ID token', async () => {
    const { account, ci } = await trusted();
    inGitHubActions(ci);
    const client = new ProvenantClient({ baseUrl: server.url });
    const me = await client.me();
    assert.equal(me.authMethod, 'api_key');
    assert.equal(me.email, account.user.email);
    assert.equal((await client.me()).apiKey?.id, me.apiKey?.id);
    await client.agents.getOrCreate('evals');
    assert.deepEqual(ci.audiences, ['provenant']);
    assert.deepEqual((await ephemeralKeys(account)).map((key) => key.id), [me.apiKey?.id]);
  });

  test('the audience comes from PROVENANT_OIDC_AUDIENCE', async () => {
    const { ci } = await trusted({ audience: 'provenant:acme' });
    inGitHubActions(ci);
    process.env.PROVENANT_OIDC_AUDIENCE = 'provenant:acme';
    assert.equal((await new ProvenantClient({ baseUrl: server.url }).me()).authMethod, 'api_key');
    assert.deepEqual(ci.audiences, ['provenant:acme']);
  });

  test('concurrent first requests share one exchange', async () => {
    const { ci } = await trusted();
    inGitHubActions(ci);
    const client = new ProvenantClient({ baseUrl: server.url });
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.me()));
    assert.equal(new Set(answers.map((me) => me.apiKey?.id)).size, 1);
    assert.deepEqual(ci.audiences, ['provenant']);
  });

  test('a key about to expire is exchanged again', async () => {
    const { account, ci } = await trusted({ ttlSeconds: 120 }); // exchanged again 30 s before it expires
    inGitHubActions(ci);
    const client = new ProvenantClient({ baseUrl: server.url });
    const first = (await client.me()).apiKey?.id;
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 95_000 }); // the client's clock only
    const second = (await client.me()).apiKey?.id;
    assert.equal((await client.me()).apiKey?.id, second);
    assert.notEqual(first, second);
    assert.equal(ci.audiences.length, 2);
    assert.equal((await ephemeralKeys(account)).length, 2);
  });

  test('background mode sends with a key exchanged again before expiry', async () => {
    const { account, ci } = await trusted({ ttlSeconds: 120 });
    inGitHubActions(ci);
    const client = new ProvenantClient({ baseUrl: server.url });
    const agent = await client.agents.getOrCreate('background');
    const session = client.session(agent);
    session.logTurn({ role: 'USER', content: 'before' });
    assert.equal(await client.flush({ timeout: 30_000 }), true);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 95_000 });
    session.logTurn({ role: 'ASSISTANT', content: 'after' });
    await session.end();
    assert.equal(await client.shutdown({ timeout: 30_000 }), true);
    assert.equal(client.droppedTurns, 0);
    const sessionId = session.id;
    const stored = await call(server.url, 'GET', `/api/sessions/${sessionId}`, { token: account.token });
    assert.deepEqual(stored.json.turns.map((turn: { content: string }) => turn.content), ['before', 'after']);
    assert.equal(ci.audiences.length, 2);
  });

  test('a token given in PROVENANT_ID_TOKEN is exchanged (GitLab, any other CI)', async () => {
    const { ci } = await trusted();
    process.env.PROVENANT_ID_TOKEN = ci.idToken();
    assert.equal((await new ProvenantClient({ baseUrl: server.url }).me()).authMethod, 'api_key');
    assert.deepEqual(ci.audiences, []);
  });

  test('an API key given wins over an ID token', async () => {
    const { account, ci } = await trusted();
    inGitHubActions(ci);
    const me = await new ProvenantClient({ baseUrl: server.url, apiKey: account.key }).me();
    assert.equal(me.apiKey?.id, account.keyId);
    assert.deepEqual(ci.audiences, []);
  });

  test('a job no policy trusts gets the server\'s refusal', async () => {
    const { ci } = await trusted({ claims: { repository: 'acme/other' } });
    inGitHubActions(ci);
    await assert.rejects(new ProvenantClient({ baseUrl: server.url }).me(), (error: unknown) => {
      assert.ok(error instanceof PermissionDeniedError);
      assert.equal(error.code, 'no_matching_policy');
      return true;
    });
  });

  test('a workflow without id-token permission is told so', async () => {
    const { ci } = await trusted();
    inGitHubActions(ci);
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'wrong';
    await assert.rejects(new ProvenantClient({ baseUrl: server.url }).me(), (error: unknown) => {
      assert.ok(error instanceof ProvenantError);
      assert.match(error.message, /id-token: write/);
      assert.doesNotMatch(error.message, /wrong/);
      return true;
    });
  });

  test('without a key or an ID token the client says what is missing', () => {
    assert.throws(() => new ProvenantClient({ baseUrl: server.url }), /No Provenant API key/);
  });

  test('a key revoked with its policy is exchanged again, and the refusal surfaces', async () => {
    const { account, ci, policyId } = await trusted();
    inGitHubActions(ci);
    const client = new ProvenantClient({ baseUrl: server.url });
    await client.me();
    const deleted = await call(server.url, 'DELETE', `/api/org/trust-policies/${policyId}`, { token: account.token });
    assert.equal(deleted.status, 200);
    await assert.rejects(client.me(), (error: unknown) => {
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.code, 'invalid_id_token'); // no policy trusts the issuer any more
      return true;
    });
    assert.equal(ci.audiences.length, 2);
  });
});
