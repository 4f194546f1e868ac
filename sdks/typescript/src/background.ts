/**
 * Background mode: `logTurn` queues a turn and returns; a sender ships the queue in batches as JSON arrays to
 * `POST /api/sessions/{id}/turns`, in order per session, one request at a time.
 *
 * Each turn carries a random `clientId`, so a batch resent after a lost answer is not stored twice. No answer,
 * 429, 502, 503 and 504 are retried with backoff (honouring Retry-After) for as long as the process lives, and
 * nothing queued behind a batch is sent meanwhile, so each session's turns arrive in order; another 5xx gets
 * SERVER_ERROR_RETRIES more tries. What the server refuses is dropped, counted in `dropped` and warned about once
 * per kind: a refused session (401, 403, 404, 409) loses all its turns, a 422 the item it names, a 5xx that
 * outlasted its tries its batch. Timers are unref'd, so a queue never keeps a finished program alive: Node's
 * `beforeExit` flushes instead.
 */
import { randomUUID } from 'node:crypto';

import { APIConnectionError, APIStatusError, retryAfterMs } from './errors.js';
import type { Session, SessionCreateParams, SessionEndParams, TurnCreateParams } from './resources/sessions.js';
import { backoff } from './retry.js';
import type { Transport } from './transport.js';

export interface BackgroundOptions {
  /** Turns held for sending at most; beyond that new turns are dropped and counted. Default 10,000. */
  maxQueuedTurns?: number;
  /** Milliseconds a queued turn waits at most before it is sent. Default 500. */
  flushInterval?: number;
  /** Queued turns that are sent at once, without waiting for `flushInterval`. Default 100. */
  flushAt?: number;
  /** Milliseconds `flush()`, `shutdown()`, `end()` and the flush at exit wait at most. Default 10,000. */
  flushTimeout?: number;
}

/** The contract's largest batch. */
const MAX_BATCH = 500;
const MAX_RETRY_WAIT_MS = 60_000;
const UNAVAILABLE = new Set([429, 502, 503, 504]);
const SERVER_ERROR_RETRIES = 5;
/** Answers that refuse the session itself, so none of its turns can be stored. */
const SESSION_REFUSALS = new Set([401, 403, 404, 409]);
const TURN_ROLES = new Set(['USER', 'ASSISTANT', 'SYSTEM', 'TOOL']);

/** The work queued for one session: its creation (until the server gave an id), its turns as JSON, its end. */
export class SessionQueue {
  id: string | undefined;
  create: SessionCreateParams | undefined;
  readonly turns: string[] = [];
  /** Turns ever queued here, and turns that left the queue (stored or dropped); flush() waits on the difference. */
  queued = 0;
  settled = 0;
  end: SessionEndParams | undefined;
  /** true once end() was called: later turns are dropped. */
  closing = false;
  /** Whether the end reached the server, once it was sent or given up. */
  endResult: boolean | undefined;
  /** Why nothing more can be sent for this session (the server refused it); its turns are dropped. */
  refused: string | undefined;
  batchSize = MAX_BATCH;

  constructor(id: string | undefined, create?: SessionCreateParams) {
    this.id = id;
    this.create = create;
  }

  get idle(): boolean {
    return this.turns.length === 0 && (this.end === undefined || this.endResult !== undefined) && (this.id !== undefined || this.refused !== undefined);
  }
}

interface Waiter {
  /** For each queue: the settled count to reach, and whether to wait for its creation and its end. */
  targets: { queue: SessionQueue; settled: number; created: boolean; end: boolean }[];
  resolve: (done: boolean) => void;
}

/** What sending came to: the answer, or the error that ended the tries. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class TurnSender {
  dropped = 0;
  readonly #transport: Transport;
  readonly #maxQueuedTurns: number;
  readonly #flushInterval: number;
  readonly #flushAt: number;
  readonly flushTimeout: number;
  /** Queues with something to send, in the order they got it. */
  readonly #pending = new Set<SessionQueue>();
  /** Queues of sessions addressed by id (`client.logTurn`), so turns for one session share one order. */
  readonly #byId = new Map<string, SessionQueue>();
  readonly #waiters = new Set<Waiter>();
  readonly #warned = new Set<string>();
  #queued = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #due = false;
  #wakeSleep: (() => void) | undefined;
  #closed = false;
  #abort = new AbortController();

  constructor(transport: Transport, { maxQueuedTurns = 10_000, flushInterval = 500, flushAt = 100, flushTimeout = 10_000 }: BackgroundOptions) {
    this.#transport = transport;
    this.#maxQueuedTurns = maxQueuedTurns;
    this.#flushInterval = flushInterval;
    this.#flushAt = flushAt;
    this.flushTimeout = flushTimeout;
    watchExit();
  }

  get hasWork(): boolean {
    return this.#pending.size > 0;
  }

  /** A queue for a session the server is yet to create. */
  openSession(agentId: string, params: Omit<SessionCreateParams, 'agentId'>): SessionQueue {
    const queue = new SessionQueue(undefined, { ...params, agentId });
    this.#schedule(queue);
    return queue;
  }

  queueFor(sessionId: string): SessionQueue {
    let queue = this.#byId.get(sessionId);
    if (queue === undefined) {
      queue = new SessionQueue(sessionId);
      this.#byId.set(sessionId, queue);
    }
    return queue;
  }

  /** Queues one turn; never throws and never waits. */
  logTurn(queue: SessionQueue, turn: TurnCreateParams): void {
    if (this.#closed) return this.#drop(1, 'closed', 'A turn logged after client.shutdown() was dropped.');
    // The refusal itself was warned about when it came; later turns for that session are only counted.
    if (queue.refused !== undefined) {
      this.dropped++;
      return;
    }
    if (queue.closing) return this.#drop(1, 'ended', 'A turn logged after its session.end() was dropped.');
    if (this.#queued >= this.#maxQueuedTurns) {
      return this.#drop(
        1,
        'queue_full',
        `The queue of turns to send holds ${this.#maxQueuedTurns} already (maxQueuedTurns), so new turns are dropped; ` +
          'client.droppedTurns counts them. Is the Provenant server reachable?',
      );
    }
    if (!TURN_ROLES.has(turn?.role) || turn.content === undefined) {
      return this.#drop(1, 'invalid_turn', 'A turn without a role of USER, ASSISTANT, SYSTEM or TOOL, or without content, was dropped.');
    }
    let json: string;
    try {
      // Serialised now, so later changes to the caller's objects cannot change what was logged.
      json = JSON.stringify({ ...turn, clientId: turn.clientId ?? randomUUID() });
    } catch (error) {
      return this.#drop(1, 'not_json', `A turn that cannot be sent as JSON was dropped: ${String(error)}`);
    }
    queue.turns.push(json);
    queue.queued++;
    this.#queued++;
    this.#schedule(queue);
    if (this.#queued >= this.#flushAt && !this.#running) setImmediate(() => this.#start());
  }

  /** Queues the session's end after its turns; resolves true once the server ended it. */
  endSession(queue: SessionQueue, params: SessionEndParams, timeout = this.flushTimeout): Promise<boolean> {
    if (!queue.closing) {
      queue.closing = true;
      queue.end = params;
      this.#schedule(queue);
    }
    return this.#wait([queue], timeout).then(() => queue.endResult === true);
  }

  /** Resolves true once every turn and end queued before the call was sent (or refused), false on timeout. */
  flush(timeout = this.flushTimeout): Promise<boolean> {
    return this.#wait([...this.#pending], timeout);
  }

  /** Flushes, then drops whatever is left and stops for good; later turns are dropped and counted. */
  async shutdown(timeout = this.flushTimeout): Promise<boolean> {
    this.#closed = true;
    const done = await this.flush(timeout);
    this.#abandon();
    return done;
  }

  /** The flush at exit: whatever it could not send within flushTimeout is dropped and counted, so the next
   * beforeExit finds nothing left and the process can end. */
  async flushAtExit(): Promise<void> {
    const done = await this.flush();
    if (!done) this.#abandon();
  }

  #schedule(queue: SessionQueue): void {
    this.#pending.add(queue);
    liveSenders.add(this);
    this.#arm();
  }

  #arm(): void {
    if (this.#timer === undefined && !this.#running) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#start();
      }, this.#flushInterval);
      this.#timer.unref();
    }
  }

  #wait(queues: SessionQueue[], timeout: number): Promise<boolean> {
    const waiter: Waiter = {
      targets: queues.map((queue) => ({
        queue,
        settled: queue.queued,
        created: queue.id === undefined,
        end: queue.end !== undefined,
      })),
      resolve: () => undefined,
    };
    if (isSettled(waiter)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      // Not unref'd: while someone awaits a flush, the process stays up to see it through (or time out).
      const deadline = setTimeout(() => finish(false), timeout);
      const finish = (done: boolean) => {
        clearTimeout(deadline);
        this.#waiters.delete(waiter);
        resolve(done);
      };
      waiter.resolve = finish;
      this.#waiters.add(waiter);
      this.#due = true;
      this.#wakeSleep?.();
      this.#start();
    });
  }

  #start(): void {
    if (this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.size > 0 && (this.#due || this.#queued >= this.#flushAt) && !this.#abort.signal.aborted) {
        this.#due = false;
        for (const queue of [...this.#pending]) {
          await this.#deliver(queue);
          if (queue.idle) this.#forget(queue);
        }
      }
    } finally {
      this.#running = false;
      if (this.#pending.size > 0 && !this.#abort.signal.aborted) this.#arm();
    }
  }

  async #deliver(queue: SessionQueue): Promise<void> {
    if (queue.id === undefined && queue.refused === undefined && queue.create !== undefined) {
      const created = await this.#attempt(() => this.#transport.request<Session>('POST', '/api/sessions', this.#options({ body: queue.create })));
      if (created === undefined) return;
      if (created.ok) queue.id = created.value.id;
      else this.#refuse(queue, created.error);
      this.#notify();
    }
    while (queue.id !== undefined && queue.refused === undefined && queue.turns.length > 0) {
      const batch = queue.turns.slice(0, queue.batchSize);
      const path = `/api/sessions/${encodeURIComponent(queue.id)}/turns`;
      const sent = await this.#attempt(() => this.#transport.request('POST', path, this.#options({ json: `[${batch.join(',')}]` })));
      if (sent === undefined) return;
      if (sent.ok) this.#take(queue, 0, batch.length, false);
      else this.#handleRefusal(queue, sent.error, batch.length);
    }
    if (queue.refused !== undefined && queue.turns.length > 0) this.#take(queue, 0, queue.turns.length, true);
    if (queue.end !== undefined && queue.endResult === undefined && queue.turns.length === 0) {
      if (queue.refused !== undefined) {
        queue.endResult = false;
      } else {
        const path = `/api/sessions/${encodeURIComponent(queue.id as string)}/end`;
        const ended = await this.#attempt(() => this.#transport.request('POST', path, this.#options({ body: queue.end })));
        if (ended === undefined) return;
        // A 409 after a lost answer means the first try did end it.
        queue.endResult = ended.ok || (ended.error instanceof APIStatusError && ended.error.code === 'session_ended');
        if (!ended.ok && !queue.endResult) this.#warnOnce(ended.error, 'The session could not be ended');
      }
      this.#notify();
    }
  }

  /**
   * A refused batch. When the session itself is refused (401, 403, 404, 409) it takes no more turns. Otherwise
   * only what was wrong goes: the item a 422 names (the rest is resent), or half of a batch too large (413),
   * or else the batch (a 5xx that outlasted its tries, a 422 naming no item).
   */
  #handleRefusal(queue: SessionQueue, error: unknown, batchLength: number): void {
    if (!(error instanceof APIStatusError) || SESSION_REFUSALS.has(error.statusCode)) return this.#refuse(queue, error);
    const index = Number(/^\[(\d+)\]/.exec(error.details?.[0]?.field ?? '')?.[1]);
    if (error.statusCode === 422 && Number.isInteger(index) && index < batchLength) {
      this.#take(queue, index, 1, true);
    } else if (error.statusCode === 413 && batchLength > 1) {
      queue.batchSize = Math.ceil(batchLength / 2);
      return;
    } else {
      this.#take(queue, 0, batchLength, true);
    }
    this.#warnOnce(error, 'Turns the server refused were dropped');
  }

  #refuse(queue: SessionQueue, error: unknown): void {
    queue.refused = error instanceof Error ? error.message : String(error);
    this.#warnOnce(error, 'Turns the server refused were dropped');
  }

  /** Takes `count` turns from `start` of the queue: stored, or `lost` (dropped and counted). */
  #take(queue: SessionQueue, start: number, count: number, lost: boolean): void {
    queue.turns.splice(start, count);
    queue.settled += count;
    this.#queued -= count;
    if (lost) this.dropped += count;
    queue.batchSize = MAX_BATCH;
    this.#notify();
  }

  /**
   * Runs `send` until it succeeds or fails in a way retrying cannot fix, waiting between tries for as long as
   * it takes; undefined once the sender was abandoned (shutdown or exit deadline), whose bookkeeping is done.
   */
  async #attempt<T>(send: () => Promise<T>): Promise<Outcome<T> | undefined> {
    let serverErrors = 0;
    for (let attempt = 0; ; attempt++) {
      let outcome: Outcome<T>;
      try {
        outcome = { ok: true, value: await send() };
      } catch (error) {
        outcome = { ok: false, error };
      }
      if (this.#abort.signal.aborted) return undefined;
      if (outcome.ok) return outcome;
      const { error } = outcome;
      // No answer, 429, 502, 503 and 504 say "not now": tried for as long as it takes. Another 5xx may be a bug
      // this very request triggers, so it gets a few tries and then counts as a refusal.
      const unavailable = error instanceof APIConnectionError || (error instanceof APIStatusError && UNAVAILABLE.has(error.statusCode));
      const serverError = error instanceof APIStatusError && error.statusCode >= 500;
      if (!unavailable && !(serverError && serverErrors++ < SERVER_ERROR_RETRIES)) return outcome;
      const asked = error instanceof APIStatusError ? retryAfterMs(error.headers) : undefined;
      await this.#sleep(Math.min(asked ?? backoff(attempt), MAX_RETRY_WAIT_MS));
      if (this.#abort.signal.aborted) return undefined;
    }
  }

  #options<O extends object>(options: O): O & { maxRetries: number; signal: AbortSignal; idempotent: true } {
    // Every turn carries a clientId, creating a session at worst leaves an empty one, and ending twice answers 409:
    // so everything the sender sends may be repeated.
    return { ...options, maxRetries: 0, signal: this.#abort.signal, idempotent: true };
  }

  /** An unref'd wait that flush() cuts short, so a flush retries at once instead of after the backoff. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const abort = this.#abort.signal;
      function done() {
        clearTimeout(timer);
        abort.removeEventListener('abort', done);
        resolve();
      }
      this.#wakeSleep = done;
      abort.addEventListener('abort', done);
    });
  }

  #notify(): void {
    for (const waiter of this.#waiters) {
      if (isSettled(waiter)) waiter.resolve(true);
    }
  }

  #forget(queue: SessionQueue): void {
    this.#pending.delete(queue);
    // A refused session stays known, so its later turns are dropped at once rather than sent to be refused again.
    if (queue.refused === undefined && queue.id !== undefined && this.#byId.get(queue.id) === queue) this.#byId.delete(queue.id);
    if (this.#pending.size === 0) liveSenders.delete(this);
  }

  /** Gives up on everything still queued: counted as dropped, the request in flight aborted, the timer stopped. */
  #abandon(): void {
    this.#closed = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let lost = 0;
    for (const queue of this.#pending) {
      lost += queue.turns.length;
      queue.settled += queue.turns.length;
      queue.turns.length = 0;
      if (queue.end !== undefined && queue.endResult === undefined) queue.endResult = false;
      queue.refused ??= 'the client was shut down';
    }
    this.#pending.clear();
    this.#byId.clear();
    this.#queued = 0;
    if (lost > 0) this.#drop(lost, 'unsent', `${lost} turn(s) could not be sent before the deadline and were dropped.`);
    this.#notify();
    liveSenders.delete(this);
  }

  #drop(count: number, kind: string, message: string): void {
    this.dropped += count;
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    process.emitWarning(message, { type: 'ProvenantWarning', code: `PROVENANT_${kind.toUpperCase()}` });
  }

  #warnOnce(error: unknown, what: string): void {
    const kind = error instanceof APIStatusError ? `refused_${error.statusCode}_${error.code}` : 'refused';
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    const reason = error instanceof Error ? error.message : String(error);
    process.emitWarning(`${what}: ${reason}`, { type: 'ProvenantWarning', code: 'PROVENANT_REFUSED' });
  }
}

function isSettled({ targets }: Waiter): boolean {
  return targets.every(
    ({ queue, settled, created, end }) =>
      queue.settled >= settled &&
      (!created || queue.id !== undefined || queue.refused !== undefined) &&
      (!end || queue.endResult !== undefined),
  );
}

/** Senders with work, flushed by one `beforeExit` listener for all clients of the process. */
const liveSenders = new Set<TurnSender>();
let watching = false;

function watchExit(): void {
  if (watching || typeof process === 'undefined' || typeof process.on !== 'function') return;
  watching = true;
  // beforeExit comes when nothing else keeps the loop alive; a flush then keeps it alive until done or timed out,
  // after which the queue is empty (sent or dropped), so the next beforeExit finds nothing and the process ends.
  process.on('beforeExit', () => {
    for (const sender of liveSenders) {
      if (sender.hasWork) void sender.flushAtExit();
    }
  });
}
