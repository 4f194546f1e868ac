import { TurnSender, type BackgroundOptions } from './background.js';
import { BackgroundSession } from './background-session.js';
import { ProvenantError } from './errors.js';
import { Agents } from './resources/agents.js';
import { ApiKeys } from './resources/api-keys.js';
import { Audit } from './resources/audit.js';
import type { Me } from './resources/auth.js';
import { Sessions, type SessionCreateParams, type TurnCreateParams } from './resources/sessions.js';
import { Invitations, Members } from './resources/team.js';
import { Transport } from './transport.js';
import { TrustedCi } from './trusted-ci.js';

export { VERSION } from './transport.js';

export interface ClientOptions extends BackgroundOptions {
  /** Where the Provenant server lives, e.g. `https://provenant.example.com`. Defaults to `PROVENANT_URL`. */
  baseUrl?: string | undefined;
  /**
   * A `pk_live_…` key. Defaults to `PROVENANT_API_KEY`. Without one, in CI, the provider's ID token is exchanged
   * for a short-lived key (GitHub Actions with `id-token: write`, or `PROVENANT_ID_TOKEN`), and again before it expires.
   */
  apiKey?: string | undefined;
  /** Milliseconds one attempt may take, answer body included. Default 30000. */
  timeout?: number;
  /** How many times a failed request that is safe to repeat is retried. Default 2. */
  maxRetries?: number;
}

export class ProvenantClient {
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;

  readonly agents: Agents;
  readonly sessions: Sessions;
  readonly apiKeys: ApiKeys;
  readonly members: Members;
  readonly invitations: Invitations;
  readonly audit: Audit;

  readonly #transport: Transport;
  readonly #backgroundOptions: BackgroundOptions;
  // Made on the first logged turn, so a client that never logs one has no timer and no exit hook.
  #sender: TurnSender | undefined;

  constructor(options: ClientOptions = {}) {
    const { baseUrl = env('PROVENANT_URL'), apiKey = env('PROVENANT_API_KEY'), timeout = 30_000, maxRetries = 2 } = options;
    if (!baseUrl?.trim()) {
      throw new ProvenantError(
        'No Provenant URL: pass `baseUrl` to new ProvenantClient({ baseUrl }) or set the PROVENANT_URL environment variable (e.g. https://provenant.example.com).',
      );
    }
    // Without a key, in CI: the provider's ID token is exchanged for a short-lived key (see trusted-ci.ts).
    const trustedCi = !apiKey?.trim() && TrustedCi.available();
    if (!apiKey?.trim() && !trustedCi) {
      throw new ProvenantError(
        'No Provenant API key: pass `apiKey` to new ProvenantClient({ apiKey }) or set the PROVENANT_API_KEY environment variable. Create a key under API Keys in the Provenant dashboard (in CI, a trust policy and the provider\'s ID token can stand in for it: see the README\'s Trusted CI).',
      );
    }
    if (!/^https?:\/\/[^/]/i.test(baseUrl.trim())) {
      throw new ProvenantError(`baseUrl must be an http(s) URL such as https://provenant.example.com, got ${JSON.stringify(baseUrl)}.`);
    }
    if (!Number.isFinite(timeout) || timeout <= 0) throw new ProvenantError('timeout must be a positive number of milliseconds.');
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new ProvenantError('maxRetries must be a whole number, 0 or more.');
    this.#backgroundOptions = backgroundOptions(options);
    this.baseUrl = baseUrl.trim().replace(/\/+$/, '');
    this.timeout = timeout;
    this.maxRetries = maxRetries;
    this.#transport = new Transport({ baseUrl: this.baseUrl, apiKey: trustedCi ? undefined : apiKey?.trim(), timeout, maxRetries });
    this.agents = new Agents(this.#transport);
    this.sessions = new Sessions(this.#transport);
    this.apiKeys = new ApiKeys(this.#transport);
    this.members = new Members(this.#transport);
    this.invitations = new Invitations(this.#transport);
    this.audit = new Audit(this.#transport);
  }

  /** Who the key belongs to: the user, their role and org, and which key is in use. */
  me(): Promise<Me> {
    return this.#transport.request('GET', '/api/auth/me');
  }

  /**
   * Background mode: a session of `agent` (an agent or its id) whose `logTurn` returns at once. The server
   * creates the session in the background, before its first turn is sent; `await session.end()` ends it.
   */
  session(agent: string | { id: string }, params: Omit<SessionCreateParams, 'agentId'> = {}): BackgroundSession {
    const sender = this.#background();
    return new BackgroundSession(sender, sender.openSession(typeof agent === 'string' ? agent : agent.id, params));
  }

  /** Background mode for a session that already exists: queues one turn and returns at once. */
  logTurn(sessionId: string, turn: TurnCreateParams): void {
    const sender = this.#background();
    sender.logTurn(sender.queueFor(sessionId), turn);
  }

  /**
   * Sends every turn logged so far: resolves true once they are stored (or refused by the server, see
   * `droppedTurns`), false when `timeout` ms (default `flushTimeout`) ran out first. Never rejects.
   */
  flush({ timeout }: { timeout?: number } = {}): Promise<boolean> {
    return this.#sender?.flush(timeout) ?? Promise.resolve(true);
  }

  /** Flushes, then stops background mode for good: what is still unsent after `timeout` is dropped and counted. */
  shutdown({ timeout }: { timeout?: number } = {}): Promise<boolean> {
    return this.#background().shutdown(timeout);
  }

  /** Turns logged in background mode that will never be stored: queue full, refused by the server, or unsent at shutdown. */
  get droppedTurns(): number {
    return this.#sender?.dropped ?? 0;
  }

  #background(): TurnSender {
    this.#sender ??= new TurnSender(this.#transport, this.#backgroundOptions);
    return this.#sender;
  }
}

function backgroundOptions({ maxQueuedTurns, flushInterval, flushAt, flushTimeout }: BackgroundOptions): BackgroundOptions {
  const checks = { maxQueuedTurns, flushInterval, flushAt, flushTimeout };
  for (const [name, value] of Object.entries(checks)) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new ProvenantError(`${name} must be a positive number.`);
    }
  }
  return Object.fromEntries(Object.entries(checks).filter(([, value]) => value !== undefined));
}

function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}
