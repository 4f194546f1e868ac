/**
 * Constructing a client: options, environment fallback, failing fast, and keeping the key out of sight.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';

import { ProvenantClient, ProvenantError, VERSION } from '@provenant/sdk';

const KEY = 'pk_live_fedcba9876543210fedcba9876543210';
const saved = { url: process.env.PROVENANT_URL, key: process.env.PROVENANT_API_KEY };

function restore(name: string, value: string | undefined) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('new ProvenantClient', () => {
  beforeEach(() => {
    delete process.env.PROVENANT_URL;
    delete process.env.PROVENANT_API_KEY;
  });
  afterEach(() => {
    restore('PROVENANT_URL', saved.url);
    restore('PROVENANT_API_KEY', saved.key);
  });

  test('takes its options, with defaults of 30 s and 2 retries', () => {
    const client = new ProvenantClient({ baseUrl: 'https://provenant.example.com/', apiKey: KEY });
    assert.equal(client.baseUrl, 'https://provenant.example.com');
    assert.equal(client.timeout, 30_000);
    assert.equal(client.maxRetries, 2);
    const tuned = new ProvenantClient({ baseUrl: 'http://localhost:8000', apiKey: KEY, timeout: 5_000, maxRetries: 0 });
    assert.equal(tuned.timeout, 5_000);
    assert.equal(tuned.maxRetries, 0);
  });

  test('falls back to PROVENANT_URL and PROVENANT_API_KEY', () => {
    process.env.PROVENANT_URL = 'https://from-env.example.com';
    process.env.PROVENANT_API_KEY = KEY;
    assert.equal(new ProvenantClient().baseUrl, 'https://from-env.example.com');
    assert.equal(new ProvenantClient({ baseUrl: undefined, apiKey: undefined }).baseUrl, 'https://from-env.example.com');
  });

  test('prefers explicit options to the environment', () => {
    process.env.PROVENANT_URL = 'https://from-env.example.com';
    process.env.PROVENANT_API_KEY = KEY;
    assert.equal(new ProvenantClient({ baseUrl: 'https://explicit.example.com' }).baseUrl, 'https://explicit.example.com');
  });

  test('fails fast, saying how to fix it, without an API key', () => {
    process.env.PROVENANT_URL = 'https://provenant.example.com';
    assert.throws(() => new ProvenantClient(), (error: unknown) => {
      assert.ok(error instanceof ProvenantError);
      assert.match(error.message, /apiKey/);
      assert.match(error.message, /PROVENANT_API_KEY/);
      return true;
    });
    assert.throws(() => new ProvenantClient({ apiKey: '  ' }), /PROVENANT_API_KEY/);
  });

  test('fails fast, saying how to fix it, without a URL', () => {
    process.env.PROVENANT_API_KEY = KEY;
    assert.throws(() => new ProvenantClient(), (error: unknown) => {
      assert.ok(error instanceof ProvenantError);
      assert.match(error.message, /baseUrl/);
      assert.match(error.message, /PROVENANT_URL/);
      return true;
    });
  });

  test('rejects a URL that is not http(s), and nonsense timeouts and retries', () => {
    assert.throws(() => new ProvenantClient({ baseUrl: 'provenant.example.com', apiKey: KEY }), /http\(s\) URL/);
    assert.throws(() => new ProvenantClient({ baseUrl: 'http://x', apiKey: KEY, timeout: 0 }), /timeout/);
    assert.throws(() => new ProvenantClient({ baseUrl: 'http://x', apiKey: KEY, maxRetries: -1 }), /maxRetries/);
    assert.throws(() => new ProvenantClient({ baseUrl: 'http://x', apiKey: KEY, maxRetries: 1.5 }), /maxRetries/);
  });

  test('keeps the key out of JSON.stringify, util.inspect and string conversion', () => {
    const client = new ProvenantClient({ baseUrl: 'https://provenant.example.com', apiKey: KEY });
    const shown = [
      JSON.stringify(client),
      inspect(client),
      inspect(client, { showHidden: true, depth: Infinity, getters: true }),
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- what a careless log line would print
      String(client),
      Object.values(client).map(String).join(','),
      inspect(client.agents, { showHidden: true }),
    ];
    for (const text of shown) assert.ok(!text.includes(KEY) && !text.includes(KEY.slice(8)), text);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(client))).sort(), [
      'agents',
      'apiKeys',
      'audit',
      'baseUrl',
      'invitations',
      'maxRetries',
      'members',
      'sessions',
      'timeout',
    ]);
  });

  test('VERSION, sent in the User-Agent, is the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(VERSION, pkg.version);
  });
});

describe('the package', () => {
  test('is an ES module with types and no runtime dependencies', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.name, '@provenant/sdk');
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.dependencies, undefined);
    // Only what builds, types and lints it, none of which ships.
    assert.deepEqual(Object.keys(pkg.devDependencies).sort(), [
      '@eslint/js',
      '@types/node',
      'eslint',
      'globals',
      'typescript',
      'typescript-eslint',
    ]);
    const types = await readFile(new URL(`../../${pkg.exports['.'].types}`, import.meta.url), 'utf8');
    assert.match(types, /ProvenantClient/);
  });
});
