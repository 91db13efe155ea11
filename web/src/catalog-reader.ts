// The storefront's copy of the catalogue: the pages and items it has shown, each with
// the ETag the api gave it, in memory bounded by bytes (least recently used dropped
// first). Inside a grant (./catalog-lease.ts) a read whose entry no change has touched
// since it was checked is answered from here, with no call at all. Otherwise the read
// asks the api whether its copy is current — the asking is coalesced
// (lib/src/ui/revalidate.ts): a request waits for a check that started after it
// arrived, and one check (POST /items/check) answers every page and item asked for
// while the one before was in flight, with "unchanged" for what web holds already.
// So a read never returns a version older than its own start (read-your-writes through
// every web server), and under load one round trip serves many requests.
// docs/internals.md, The cache and Web's memory.
import type { Context } from "hono";
import { nameKey } from "@bazaar/lib/name-key.ts";
import { boundedMap } from "@bazaar/lib/ui/bounded-map.ts";
import { type Revalidator, revalidator } from "@bazaar/lib/ui/revalidate.ts";
import * as v from "valibot";
import {
  type CatalogCheck,
  CatalogCheckReply,
  type CatalogPage,
  type Item,
  ItemName,
  MAX_CHECK,
} from "@bazaar/lib/schemas.ts";
import { fail, Unavailable } from "@bazaar/lib/http.ts";
import { call, forward } from "@bazaar/lib/ui/upstream.ts";
import type { ApiClient } from "./api-client.ts";
import type { CatalogLease } from "./catalog-lease.ts";

const STORE = "the store";

// Under load, at most one catalogue check per 2 ms per web server (an idle request
// is never held): 0, 1 and 3 ms measured, docs/performance-notes.md.
const GATHER_MS = 2;

/** A value and the api's ETag for it. */
export type Tagged<T> = { etag: string; value: T };
/** As held: with the lease's mark when it was last checked (-1 with no lease). */
type Checked<T> = Tagged<T> & { checkedAt: number };

/** Which page of the catalogue: page number, page size, search text. */
export type PageAsk = { page: number; per_page: number; q: string };

export type CatalogReader = {
  /** A page of the catalogue, as current as a check that began after this call. */
  page(c: Context, ask: PageAsk): Promise<Tagged<CatalogPage>>;
  /** One item by name (404 when there is none), as current as a check that began after this call. */
  product(c: Context, name: string): Promise<Tagged<Item>>;
  /** Requests and checks so far, and what is held (for /healthz). */
  stats(): Record<string, unknown>;
};

type Ask =
  | { kind: "item"; name: string; headers: Record<string, string> }
  | ({ kind: "page"; headers: Record<string, string> } & PageAsk);
/** A page held keeps its items' name keys: it is touched when any of them changes. */
type Held = Checked<Item | CatalogPage> & { members?: string[] };

// By the names' one rule (ItemName: surrounding spaces are no part of a name); a string
// no item can have (the api answers "missing") still needs a key of its own.
const keyOfName = (name: string) => {
  const parsed = v.safeParse(ItemName, name);
  return parsed.success ? nameKey(parsed.output) : `\u0000${name}`;
};
const pageKey = ({ page, per_page, q }: PageAsk) => `p:${per_page}:${page}:${q}`;

// What a held entry costs, roughly: the value, and for a page the storefront's
// rendering of it (about 1.5 kB a card), which lives as long as the page does.
const ITEM_BYTES = 300;
const CARD_BYTES = 1500;
const bytesOf = (value: Item | CatalogPage) =>
  "items" in value
    ? 1000 + value.items.length * (ITEM_BYTES + CARD_BYTES)
    : ITEM_BYTES + value.name.length * 2;

/**
 * `timeoutMs` bounds a request's wait from its arrival: a request that waits for the
 * next check (the one in flight may be hanging on a stalled api) still gets its 503
 * in time, not after two deadlines. `maxBytes` bounds what is held.
 */
export function catalogReader(
  api: ApiClient,
  timeoutMs: number,
  maxBytes = 32 * 1024 * 1024,
  lease?: CatalogLease,
): CatalogReader {
  const held = boundedMap<string, Held>(maxBytes);
  let fromMemory = 0;

  /** One round trip for up to MAX_CHECK entries: each answered with its value, "unchanged" or "missing". */
  const ask = async (batch: [string, Ask][]): Promise<[string, Held | null][]> => {
    const body: CatalogCheck = { items: [], pages: [] };
    // Taken before the check is sent: a change that arrives before its answer makes it
    // good for the requests waiting (they began before), not for serving from memory.
    const checkedAt = lease?.mark() ?? -1;
    const sent: { key: string; had?: Held }[][] = [[], []];
    for (const [key, a] of batch) {
      const had = held.get(key);
      if (a.kind === "item") {
        body.items.push({ name: a.name, etag: had?.etag });
        sent[0]!.push({ key, had });
      } else {
        body.pages.push({ page: a.page, per_page: a.per_page, q: a.q, etag: had?.etag });
        sent[1]!.push({ key, had });
      }
    }
    let reply: CatalogCheckReply;
    try {
      reply = await call(
        STORE,
        CatalogCheckReply,
        () => api.items.check.$post({ json: body }, { headers: batch[0]![1].headers }),
      );
    } catch (err) {
      // Nothing held can be trusted to be current now; the next check asks afresh.
      for (const [key] of batch) held.delete(key);
      throw err;
    }
    const out: [string, Held | null][] = [];
    [reply.items, reply.pages].forEach((answers, kind) =>
      answers.forEach((answer, i) => {
        const { key, had } = sent[kind]![i]!;
        if ("missing" in answer) {
          held.delete(key);
          out.push([key, null]);
        } else if ("unchanged" in answer && had?.etag === answer.etag) {
          had.checkedAt = Math.max(had.checkedAt, checkedAt);
          out.push([key, had]);
        } else if ("value" in answer) {
          const entry: Held = { etag: answer.etag, value: answer.value, checkedAt };
          if ("items" in answer.value) entry.members = answer.value.items.map((i) => nameKey(i.name));
          held.set(key, entry, bytesOf(answer.value));
          out.push([key, entry]);
        } else {
          throw new Unavailable(STORE, new Error(`the api said unchanged for ${key}, which is not held`));
        }
      })
    );
    return out;
  };

  const checks: Revalidator<Ask, Held | null> = revalidator(
    async (batch) => {
      const all = [...batch];
      const chunks: [string, Ask][][] = [];
      for (let i = 0; i < all.length; i += MAX_CHECK) chunks.push(all.slice(i, i + MAX_CHECK));
      return new Map((await Promise.all(chunks.map(ask))).flat());
    },
    {
      maxWaitMs: timeoutMs,
      gatherMs: GATHER_MS,
      late: () => new Unavailable(STORE, new Error(`no answer in ${timeoutMs} ms`)),
    },
  );

  /** The entry under `key`, if a grant is in hand and nothing has touched it since its check. */
  const inMemory = (key: string, current: (at: number, entry: Held) => boolean): Held | undefined => {
    if (!lease?.valid()) return undefined;
    const entry = held.get(key);
    if (!entry || !current(entry.checkedAt, entry)) return undefined;
    fromMemory++;
    return entry;
  };

  return {
    async page(c, a) {
      const key = pageKey(a);
      const found = inMemory(key, (at, entry) => lease!.pageCurrent(entry.members!, at)) ??
        await checks.check(key, { kind: "page", ...a, headers: forward(c).headers });
      return found! as Tagged<CatalogPage>;
    },
    async product(c, name) {
      const nk = keyOfName(name);
      const key = `i:${nk}`;
      const found = inMemory(key, (at) => lease!.itemCurrent(nk, at)) ??
        await checks.check(key, { kind: "item", name, headers: forward(c).headers });
      if (!found) fail(404, "product not found");
      return found as Tagged<Item>;
    },
    stats: () => ({
      revalidation: checks.stats(),
      held: held.usage(),
      from_memory: fromMemory,
      lease: lease?.stats(),
    }),
  };
}
