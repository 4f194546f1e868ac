/**
 * The TypeScript block of the user document "Authentication & API Keys" runs verbatim against a real server.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { newAccount, startProvenant, type Provenant } from './helpers/servers.js';

const snippetSource = fileURLToPath(new URL('../../test/fixtures/docs-snippet.ts', import.meta.url));
// The product's own user document, in this repository (build/test/ is four levels below its root).
const documentPath = fileURLToPath(new URL('../../../../docs/authentication-and-api-keys.md', import.meta.url));

function typescriptBlock(markdown: string): string {
  const match = /```typescript\n([\s\S]*?)```/.exec(markdown);
  assert.ok(match, 'the document has a ```typescript block');
  return match[1] ?? '';
}

describe('the documented TypeScript snippet', () => {
  let server: Provenant;
  before(async () => {
    server = await startProvenant();
  });
  after(async () => {
    await server?.stop();
  });

  test('is the fixture, character for character', () => {
    assert.ok(existsSync(documentPath), `the repository ships its user document at ${documentPath}`);
    const fixture = readFileSync(snippetSource, 'utf8');
    assert.ok(fixture.startsWith(typescriptBlock(readFileSync(documentPath, 'utf8'))), 'fixture starts with the documented block');
  });

  test('runs against a real server with PROVENANT_URL and PROVENANT_API_KEY set', async () => {
    const account = await newAccount(server.url);
    process.env.PROVENANT_URL = server.url;
    process.env.PROVENANT_API_KEY = account.key;
    const { client } = await import('./fixtures/docs-snippet.js');

    const me = await client.me();
    assert.equal(me.email, account.user.email);
    assert.equal(me.authMethod, 'api_key');
    const agent = await client.agents.getOrCreate(`docs agent ${account.org.slug}`);
    assert.equal(agent.orgId, account.org.id);
  });
});
