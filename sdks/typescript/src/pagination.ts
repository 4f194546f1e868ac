import { ProvenantError } from './errors.js';
import type { Query, Transport } from './transport.js';

/** The most items the server puts in one page. */
const MAX_PAGE_SIZE = 200;

/**
 * A list that pages: `for await (const item of list)` fetches page after page as the loop needs them, and
 * `await list` fetches every page and resolves to one array (which is what these methods returned before
 * paging existed). Nothing is fetched until one of the two is used; awaiting twice fetches once.
 *
 * `limit` is the most items the list yields in all (not the page size); without it the list runs to the end.
 */
export class PagedList<T> implements AsyncIterable<T>, Promise<T[]> {
  readonly [Symbol.toStringTag] = 'PagedList';
  readonly #transport: Transport;
  readonly #path: string;
  readonly #query: Query;
  readonly #limit: number | undefined;
  #all: Promise<T[]> | undefined;

  /** @internal */
  constructor(transport: Transport, path: string, query: Query, limit?: number) {
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
      throw new ProvenantError(`limit must be a whole number, 1 or more (or left out for every item), got ${limit}.`);
    }
    this.#transport = transport;
    this.#path = path;
    this.#query = query;
    this.#limit = limit;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    let remaining = this.#limit ?? Infinity;
    let cursor: string | undefined;
    do {
      // Without a limit the server's default page size applies; with one, no page holds more than is wanted.
      const limit = this.#limit === undefined ? undefined : Math.min(remaining, MAX_PAGE_SIZE);
      const { data, headers } = await this.#transport.send<T[]>('GET', this.#path, { query: { ...this.#query, limit, cursor } });
      for (const item of data.slice(0, remaining)) yield item;
      remaining -= data.length;
      cursor = nextCursor(headers.get('link'));
    } while (cursor !== undefined && remaining > 0);
  }

  then<Fulfilled = T[], Rejected = never>(
    onfulfilled?: ((value: T[]) => Fulfilled | PromiseLike<Fulfilled>) | null,
    onrejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null,
  ): Promise<Fulfilled | Rejected> {
    this.#all ??= collect(this);
    return this.#all.then(onfulfilled, onrejected);
  }

  catch<Rejected = never>(onrejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null): Promise<T[] | Rejected> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T[]> {
    return this.then().finally(onfinally);
  }
}

/**
 * The `cursor` of the `rel="next"` link. Only the cursor is taken, and sent with the list's own filters to the
 * client's own base URL: a server behind a TLS-terminating proxy sees `http://` and an internal host, and
 * following its link as written would send the key in clear text, or to a host the caller never named.
 */
export function nextCursor(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const [, target, params = ''] of link.matchAll(/<([^>]*)>([^,]*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(params)?.[1] ?? '';
    if (target && rel.toLowerCase().split(/\s+/).includes('next')) {
      return new URL(target, 'http://link.invalid').searchParams.get('cursor') ?? undefined;
    }
  }
  return undefined;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
