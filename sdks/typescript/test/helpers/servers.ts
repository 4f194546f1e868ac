/**
 * Real servers for the tests: the Provenant server itself (`provenant serve`), and tiny node:http servers for the
 * failures a healthy Provenant never produces on demand (503s, dropped sockets, slow answers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Provenant {
  url: string;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL, as a crash would), keeping its data for restart(). */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data. */
  restart(): Promise<void>;
}

/** Starts `provenant serve` ($PROVENANT_BIN, else `provenant` on PATH) on a free port with a fresh data dir. */
export async function startProvenant(): Promise<Provenant> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'provenant-ts-sdk-'));
  // The trusted CI tests run a stand-in CI provider on loopback (ci-provider.ts), which the server may fetch.
  const env = {
    // Every test registers an org of its own, all from loopback: past the server's per-address limit.
    PROVENANT_REGISTRATIONS_PER_IP: '1000000',
    ...process.env,
    PROVENANT_DATA_DIR: dataDir,
    PROVENANT_JWT_SECRET: randomBytes(32).toString('hex'),
    PROVENANT_ALLOWED_ISSUER_HOSTS: '127.0.0.1',
  };
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await kill(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    child = await serve(port, env);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    stop,
    crash: async () => {
      if (child) await kill(child, 'SIGKILL');
    },
    restart: async () => {
      if (child) await kill(child);
      child = await serve(port, env);
    },
  };
}

async function serve(port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const bin = process.env.PROVENANT_BIN || 'provenant';
  const child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failure: Error | undefined;
  child.on('error', (error) => {
    failure = new Error(
      `Could not start ${bin} (${error.message}). Set PROVENANT_BIN or put the server's bin directory on PATH ` +
        '(the repository\'s .venv/bin, where `pip install -e .` puts it).',
    );
  });

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (failure) break;
    if (child.exitCode !== null) {
      failure = new Error(`${bin} serve exited with code ${child.exitCode}:\n${output}`);
      break;
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      await response.text();
      if (response.status === 200) return child;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  await kill(child);
  throw failure ?? new Error(`${bin} serve did not answer GET /api/health with 200 within 60 s:\n${output}`);
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A raw JSON call, for test setup that goes around the SDK (registering, using a JWT). */
export async function call(
  url: string,
  method: string,
  path: string,
  { token, body }: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

export interface Account {
  token: string;
  user: { id: string; name: string; email: string; role: string; orgId: string };
  org: { id: string; name: string; slug: string };
  key: string;
  keyId: string;
  password: string;
}

export function unique(prefix = 'ts'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/** Registers a new user and org the way a person would, then creates an API key with their JWT. */
export async function newAccount(url: string): Promise<Account> {
  const slug = unique('ts-org');
  const password = `pw-${randomUUID()}`;
  const registered = await call(url, 'POST', '/api/auth/register', {
    body: { name: 'TS SDK Tester', email: `${slug}@example.com`, password, orgName: `Org ${slug}`, orgSlug: slug },
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.json)}`);
  const { token, user, org } = registered.json;
  const created = await call(url, 'POST', '/api/org/keys', { token, body: { name: 'ts-sdk-tests' } });
  if (created.status !== 201) throw new Error(`POST /api/org/keys answered ${created.status}: ${JSON.stringify(created.json)}`);
  return { token, user, org, key: created.json.key, keyId: created.json.id, password };
}

export interface TinyServer {
  url: string;
  /** Requests received so far, in order. */
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** A real HTTP server on a free port answering with `handler`, which gets the 0-based index of the request and
 * its body as text. */
export async function startTinyServer(
  handler: (req: IncomingMessage, res: ServerResponse, index: number, body: string) => void,
  port = 0,
): Promise<TinyServer> {
  const requests: TinyServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const index = requests.length;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, index, Buffer.concat(chunks).toString()));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A real HTTP proxy in front of `target` that forwards every request; for those `loseAnswer` picks, it lets the
 * upstream handle the request and then drops the connection instead of answering, as a network failure would.
 */
export async function startAnswerLosingProxy(
  target: string,
  loseAnswer: (req: { method: string; url: string }, index: number) => boolean,
  port = 0,
): Promise<TinyServer> {
  const requests: TinyServer['requests'] = [];
  const server: Server = createServer((req, res) => void relay(req, res));
  async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const index = requests.length;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
    ) as Record<string, string>;
    try {
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (loseAnswer({ method: req.method ?? '', url: req.url ?? '' }, index)) {
        req.socket.destroy();
        return;
      }
      // fetch has decoded the body already, so its length and encoding headers no longer describe it.
      const answerHeaders = [...upstream.headers].filter(
        ([name]) => !['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name),
      );
      res.writeHead(upstream.status, Object.fromEntries(answerHeaders));
      res.end(body);
    } catch {
      req.socket.destroy();
    }
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
