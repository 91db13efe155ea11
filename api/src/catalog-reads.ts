// The api's catalogue reads: from Redis, MySQL only on a miss (then filled), in one
// Redis call per batch of reads (lib/src/data/catalog-cache.ts: READ). Redis is trusted
// only while the relay's freshness mark is there; without it every read goes to
// MySQL (and nothing is filled), so a relay that is away, or a Redis restarted or
// flushed, never serves an old value (docs/internals.md, The cache).
import { createHash } from "node:crypto";
import * as v from "valibot";
import { type ItemRow, selectItemsByKey, selectPage } from "@bazaar/lib/data/catalog-db.ts";
import {
  type CacheRead,
  type CatalogCache,
  keyOfStem,
  type PageQuery,
  stemOf,
  type StoredItem,
  type StoredPage,
} from "@bazaar/lib/data/catalog-cache.ts";
import type { Cache } from "@bazaar/lib/data/cache.ts";
import { checkedText } from "@bazaar/lib/checked-text.ts";
import type { Db } from "@bazaar/lib/data/db.ts";
import { nameKey } from "@bazaar/lib/name-key.ts";
import { type CatalogPage, Item, ItemName } from "@bazaar/lib/schemas.ts";

/** An item and its ETag, or null when there is no such item. */
export type ItemAnswer = { etag: string; item: Item } | null;
export type PageAnswer = { etag: string; page: CatalogPage };
/** A page as asked for: the search text as given (`q`), compared by its name key. */
export type PageAsk = { page: number; per_page: number; q: string };

/** What the api counted of its catalogue reads (on /healthz). */
export type CatalogStats = {
  /** Entries asked for: items and pages. */
  reads: number;
  /** Entries answered from Redis alone. */
  hits: number;
  /** Statements sent to MySQL for catalogue reads. */
  db_queries: number;
  /** Entries Redis took from a fill (a fill after a write since the miss is refused). */
  fills: number;
  /** Entries read while Redis had no freshness mark: served from MySQL, nothing filled. */
  untrusted: number;
};

const MaybeItem = v.nullable(Item);
const NONE: StoredItem = { id: 0, version: 0, json: "null" };

/** The key of a name, or null for a string no item can have. */
const keyOf = (name: string) => {
  const parsed = v.safeParse(ItemName, name);
  return parsed.success ? nameKey(parsed.output) : null;
};

const stored = (row: ItemRow | undefined): StoredItem =>
  row ? { id: row.id, version: row.version, json: JSON.stringify(row.item) } : NONE;

const itemOf = (s: StoredItem) => checkedText(MaybeItem, s.json) as Item | null | undefined;

const pageEtag = (page: StoredPage, members: StoredItem[]) => {
  const hash = createHash("sha1").update(String(page.total));
  for (const m of members) hash.update(`|${m.id}.${m.version}`);
  return `"l${hash.digest("base64url").slice(0, 22)}"`;
};

/**
 * @example
 * const catalog = catalogReads({ db, cache, redis: catalogCache(cache) });
 * const { items: [tux] } = await catalog.read(["Tux"], []);
 */
export function catalogReads({ db, cache, redis }: { db: Db; cache: Cache; redis: CatalogCache }) {
  const stats: CatalogStats = { reads: 0, hits: 0, db_queries: 0, fills: 0, untrusted: 0 };

  async function read(
    names: string[],
    asks: PageAsk[],
  ): Promise<{ items: ItemAnswer[]; pages: PageAnswer[] }> {
    stats.reads += names.length + asks.length;
    const itemStems = names.map((n) => {
      const key = keyOf(n);
      return key === null ? null : stemOf(key);
    });
    const queries: PageQuery[] = asks.map((a) => ({ page: a.page, per_page: a.per_page, q: nameKey(a.q) }));

    let seen: (CacheRead & { token: string }) | undefined;
    if (cache.enabled()) {
      try {
        seen = await redis.read(itemStems.filter((s): s is string => s !== null), queries);
      } catch {
        // Redis away: MySQL answers (the cache module logged it).
      }
    }
    const trusted = seen?.fresh === true;
    if (seen && !trusted) stats.untrusted += names.length + asks.length;

    // What Redis held (when trusted), by stem; pages by position.
    const known = new Map<string, StoredItem>();
    const missed = new Set<string>();
    const pages: (StoredPage | undefined)[] = queries.map(() => undefined);
    if (trusted) {
      let at = 0;
      itemStems.forEach((stem) => {
        if (stem === null) return;
        const found = seen!.items[at++];
        if (found) known.set(stem, found);
        else missed.add(stem);
      });
      seen!.pages.forEach((p, j) => {
        if (!p) return;
        pages[j] = p.page;
        p.page.stems.forEach((stem, k) => {
          const found = p.members[k];
          if (found) known.set(stem, found);
          else missed.add(stem);
        });
      });
    }

    // MySQL for what Redis did not answer: each missing page, then every missing item at once.
    const loadedPages: { query: PageQuery; page: StoredPage }[] = [];
    for (const [j, query] of queries.entries()) {
      if (pages[j]) continue;
      stats.db_queries += 2;
      const list = await selectPage(db, { page: query.page, perPage: query.per_page, q: query.q });
      const page = { rowChanges: list.rowChanges, total: list.total, stems: list.keys.map(stemOf) };
      pages[j] = page;
      loadedPages.push({ query, page });
    }
    const wanted = new Set<string>();
    for (const stem of itemStems) if (stem !== null && !known.has(stem)) wanted.add(stem);
    for (const page of pages) for (const stem of page!.stems) if (!known.has(stem)) wanted.add(stem);
    const loaded: { stem: string; item: StoredItem }[] = [];
    if (wanted.size) {
      stats.db_queries++;
      const rows = await selectItemsByKey(db, [...wanted].map(keyOfStem));
      for (const stem of wanted) {
        const item = stored(rows.get(keyOfStem(stem)));
        known.set(stem, item);
        // Only a miss this read took the lease for may be filled (see FILL).
        if (missed.has(stem)) loaded.push({ stem, item });
      }
    }
    if (trusted && (loaded.length || loadedPages.length)) {
      try {
        stats.fills += await redis.fill(seen!, loaded, loadedPages);
      } catch {
        // Costs the cache, never the request.
      }
    }

    const hit = (stems: string[]) => stems.every((s) => !wanted.has(s));
    const items = itemStems.map((stem): ItemAnswer => {
      if (stem === null) return null;
      if (!wanted.has(stem)) stats.hits++;
      const s = known.get(stem)!;
      const item = itemOf(s);
      return item ? { etag: `"i${s.id}.${s.version}"`, item } : null;
    });
    const answers = pages.map((page, j): PageAnswer => {
      const query = asks[j]!;
      if (!loadedPages.some((l) => l.page === page) && hit(page!.stems)) stats.hits++;
      const members = page!.stems.map((s) => known.get(s)!);
      // A name deleted since the page was read (its clear not yet done) is left out.
      const shown = members.map(itemOf).filter((i): i is Item => !!i);
      return {
        etag: pageEtag(page!, members),
        page: { items: shown, page: query.page, per_page: query.per_page, total: page!.total, q: query.q },
      };
    });
    return { items, pages: answers };
  }

  return { read, stats: (): CatalogStats => ({ ...stats }) };
}

export type CatalogReads = ReturnType<typeof catalogReads>;
