// The storefront's copy of the catalogue: the last list, with the version (ETag) the
// api gave it. Every read still asks the api, with If-None-Match, and the api
// answers 304 when nothing changed — but the asking is coalesced (lib/src/revalidate.ts):
// a request waits for a check that started after it arrived, and one check answers
// every request that came while the one before was in flight. So a read never
// returns a version older than its own start (read-your-writes through every web
// server), and under load one round trip serves many requests. The whole catalogue
// is one entry: its version changes with any item, so one check answers the page
// and every product at once (per item, 32 connections over ten toys left about one
// request per check: docs/performance-notes.md). docs/internals.md, Versions.
import type { Context } from "hono";
import { nameKey } from "@bazaar/lib/name-key.ts";
import { type Revalidator, revalidator } from "@bazaar/lib/revalidate.ts";
import { type Item, ItemList } from "@bazaar/lib/schemas.ts";
import { fail, Unavailable } from "@bazaar/lib/http.ts";
import { call, forward } from "@bazaar/lib/ui/upstream.ts";
import type { ApiClient } from "./api.ts";

const STORE = "the store";

// Under load, at most one catalogue check per 2 ms per web server (an idle request
// is never held): 0, 1 and 3 ms measured, docs/performance-notes.md.
const GATHER_MS = 2;

/** A value and the api's ETag for it (absent when the api sent none: then never reused). */
export type Tagged<T> = { etag?: string; value: T };

export type CatalogReader = {
  /** Every item, as current as a check that began after this call. */
  catalogue(c: Context): Promise<Tagged<Item[]>>;
  /** One item by name (404 when there is none), as current as a check that began after this call; the catalogue's ETag. */
  product(c: Context, name: string): Promise<Tagged<Item>>;
  /** Requests and checks so far (for /healthz: the batching factor). */
  checks: Revalidator;
};

// A string no item can have (the api answers 404) still needs a key of its own.
const keyOf = (name: string) => {
  try {
    return nameKey(name);
  } catch {
    return `\u0000${name}`;
  }
};

type Reply = { ok: boolean; status: number; headers: Headers; text(): Promise<string> };

/**
 * `timeoutMs` bounds a request's wait from its arrival: a request that waits for the
 * next check (the one in flight may be hanging on a stalled api) still gets its 503
 * in time, not after two deadlines.
 */
export function catalogReader(api: ApiClient, timeoutMs: number): CatalogReader {
  const checks = revalidator({
    maxWaitMs: timeoutMs,
    gatherMs: GATHER_MS,
    late: () => new Unavailable(STORE, new Error(`no answer in ${timeoutMs} ms`)),
  });
  // The last list and its ETag; dropped whenever an answer cannot be trusted.
  let last: Tagged<Item[]> | undefined;

  const catalogue = (c: Context) =>
    checks.check("catalog", async (): Promise<Tagged<Item[]>> => {
      const kept = last;
      const headers = forward(c).headers;
      if (kept?.etag) headers["If-None-Match"] = kept.etag;
      let res: Reply;
      try {
        res = await api.items.$get(undefined, { headers });
      } catch (err) {
        last = undefined;
        throw new Unavailable(STORE, err);
      }
      // Unchanged: the copy kept (the common case under load, so no error is made for it).
      if (res.status === 304 && kept) return kept;
      try {
        const value = await call(STORE, ItemList, async () => res);
        const etag = res.headers.get("etag") ?? undefined;
        const entry = { etag, value };
        last = etag ? entry : undefined;
        return entry;
      } catch (err) {
        last = undefined;
        throw err;
      }
    });

  // Each list's items by name key, made once per list (an unchanged list is the same object).
  const indexes = new WeakMap<Item[], Map<string, Item>>();
  const indexOf = (items: Item[]) => {
    let index = indexes.get(items);
    if (!index) indexes.set(items, index = new Map(items.map((i) => [keyOf(i.name), i])));
    return index;
  };

  return {
    catalogue,
    async product(c, name) {
      const { etag, value } = await catalogue(c);
      const item = indexOf(value).get(keyOf(name));
      if (!item) fail(404, "product not found");
      return { etag, value: item };
    },
    checks,
  };
}
