/**
 * A stand-in for GitHub Actions' OpenID Connect provider on loopback: the job's token request URL
 * (`ACTIONS_ID_TOKEN_REQUEST_URL`), and the issuer's discovery document and keys that the Provenant server fetches
 * to verify the RS256 tokens it signs. It keeps real time (tests may mock the client's `Date`).
 */
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';

import { json, startTinyServer, type TinyServer } from './servers.js';

export const REPOSITORY = 'acme/evals';

const realNow = (): number => Math.floor((performance.timeOrigin + performance.now()) / 1000);

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export interface CiProvider {
  url: string;
  requestToken: string;
  /** The audience of each token request answered, in order. */
  audiences: string[];
  env(): Record<string, string>;
  idToken(audience?: string): string;
  policy(fields?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startCiProvider(): Promise<CiProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'stand-in-1';
  const requestToken = randomUUID();
  const audiences: string[] = [];
  const issuer = (): string => server.url;
  const idToken = (audience = 'provenant'): string => {
    const now = realNow();
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const claims = {
      iss: issuer(),
      aud: audience,
      sub: `repo:${REPOSITORY}:ref:refs/heads/main`,
      repository: REPOSITORY,
      ref: 'refs/heads/main',
      sha: '0'.repeat(40),
      run_id: '1234',
      jti: randomUUID(),
      iat: now,
      nbf: now - 5,
      exp: now + 300,
    };
    const signing = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signing).sign(privateKey);
    return `${signing}.${base64url(signature)}`;
  };
  const server: TinyServer = await startTinyServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer());
    if (url.pathname === '/token') {
      if (req.headers.authorization !== `bearer ${requestToken}`) return json(res, 403, { message: 'wrong request token' });
      const audience = url.searchParams.get('audience') ?? 'https://github.com/acme';
      audiences.push(audience);
      return json(res, 200, { count: 1, value: idToken(audience) });
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, { issuer: issuer(), jwks_uri: `${issuer()}/.well-known/jwks` });
    }
    if (url.pathname === '/.well-known/jwks') {
      return json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
    }
    return json(res, 404, {});
  });
  return {
    url: server.url,
    requestToken,
    audiences,
    env: () => ({
      ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer()}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    }),
    idToken,
    policy: (fields = {}) => ({
      name: 'evals',
      issuer: issuer(),
      audience: 'provenant',
      claims: { repository: REPOSITORY, ref: 'refs/heads/main' },
      access: 'ingest',
      ...fields,
    }),
    close: () => server.close(),
  };
}
