import type { SessionQueue, TurnSender } from './background.js';
import type { SessionEndParams, TurnCreateParams } from './resources/sessions.js';

/**
 * A session in background mode, from `client.session(agent)`. Creating it on the server, its turns and its end
 * all go through the client's background sender, in that order; nothing here waits for the network except
 * `end()`, and nothing throws into the agent.
 */
export class BackgroundSession {
  readonly #sender: TurnSender;
  readonly #queue: SessionQueue;

  /** @internal */
  constructor(sender: TurnSender, queue: SessionQueue) {
    this.#sender = sender;
    this.#queue = queue;
  }

  /** The session's id once the server has created it (a moment after `client.session()`); undefined until then. */
  get id(): string | undefined {
    return this.#queue.id;
  }

  /**
   * Queues one turn and returns at once. The turn is serialised now and gets a `clientId` unless it has one;
   * it is dropped (and counted in `client.droppedTurns`, with one warning) when the queue is full, the turn is
   * not valid, or the session was ended.
   */
  logTurn(turn: TurnCreateParams): void {
    this.#sender.logTurn(this.#queue, turn);
  }

  /**
   * Ends the session after every turn logged before it: resolves true once the server ended it, false when that
   * did not happen within `timeout` ms (default: the client's `flushTimeout`) or the server refused the session.
   * Never rejects. Turns logged afterwards are dropped.
   */
  end(params: SessionEndParams = {}, { timeout }: { timeout?: number } = {}): Promise<boolean> {
    return this.#sender.endSession(this.#queue, params, timeout);
  }
}
