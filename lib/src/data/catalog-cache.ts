// The catalogue in Redis: its keys, and the Lua scripts that read, fill, update and
// clear them, each one atomic in Redis. docs/internals.md (The cache) has the
// argument for why a read never returns a value older than a write acknowledged
// before it; in short:
//
//   catalog:gen                    the catalogue's generation: INCR clears every key
//                                  under `catalog:` at once (the relay's recovery)
//   catalog:fresh                  the relay's freshness mark; no reader trusts Redis
//                                  without it (it expires FRESH_MS after the relay's
//                                  cycle began, unless the next cycle renews it)
//   catalog:relay:hold             a relay's token while it deletes a backlog it has not
//                                  applied: no relay renews the mark meanwhile (several
//                                  api instances each run one: docs/internals.md)
//   catalog:item:<stem>:v          an item: "<gen>|<id>|<version>|<json or null>"
//   catalog:item:<stem>:lease      the token of the read that missed it (a fill must hold it)
//   catalog:list:floor             the least catalog_meta.row_changes a page may be of
//   catalog:list:<per>:<page>:<q>  a page of names: "<gen>|<row_changes>|<total>|<stems>"
//   order:<number>                 an order: "<gen>|<json>" (an order never changes, but its
//                                  number is used again by a database restored from a
//                                  backup: the generation the relay raises then, or a
//                                  purchase given that number, ends the old one)
//
// A stem is the name key, URI-encoded (no ':' or ' ' in it). An item's prefix
// `catalog:item:<stem>:` holds just those two keys, so clearing it is deleting them;
// `catalog:list:` is cleared by raising its floor (a generation the database hands out:
// every insert and delete raises row_changes), `catalog:` by raising the generation.
import type { Cache } from "./cache.ts";
import { pastOnEveryClock } from "../grants.ts";
import { type Announced, announced, type CatalogFeed, catalogFeed, FEED_FN, GRANT_MS, LIST } from "./feed.ts";
import { orderEntry } from "./orders.ts";

/** How long the relay's mark vouches for Redis, from the start of the cycle that set it. */
export const FRESH_MS = 200;
/** How often the relay runs (well inside FRESH_MS, so a slow cycle does not let the mark lapse). */
export const RELAY_EVERY_MS = 50;
/**
 * How long a writer whose own clear failed waits before it answers: by then the relay
 * has applied its change, or the mark has lapsed and no reader trusts Redis. FRESH_MS
 * and a margin for the writer's and Redis's clocks running at slightly different rates.
 */
export const RELAY_BOUND_MS = FRESH_MS + 25;
/** How long a miss's lease lasts: a fill later than this is dropped (the read is too old to trust). */
export const LEASE_MS = 10_000;

/** The key of an item's entries (URI-encoded: never a ':' or a space). */
export const stemOf = (nameKey: string) => encodeURIComponent(nameKey);
export const keyOfStem = (stem: string) => decodeURIComponent(stem);

/** A page of the list, as asked for: which page, how many per page, and a search text (name key, or ""). */
export type PageQuery = { page: number; per_page: number; q: string };
export const pageStem = ({ page, per_page, q }: PageQuery) => `${per_page}:${page}:${encodeURIComponent(q)}`;

/** An item as stored: its id and version (never reused together) and the row, or null for "no such item". */
export type StoredItem = { id: number; version: number; json: string };
/** A page as stored: the row_changes it was read at, how many match in all, and its names' stems. */
export type StoredPage = { rowChanges: number; total: number; stems: string[] };

const G = `local g = redis.call('GET', 'catalog:gen') or '0'`;

// An item's entry if it is of this generation, else false (and, when Redis is
// trusted, a lease for the one read that may fill it).
const ITEM_FN = `local function item(stem)
  local v = redis.call('GET', 'catalog:item:' .. stem .. ':v')
  if v and string.sub(v, 1, #g + 1) == g .. '|' then return v end
  if fresh == 1 then redis.call('SET', 'catalog:item:' .. stem .. ':lease', token, 'PX', ARGV[2]) end
  return false
end`;

/** ARGV: token, lease ms, n, item stems…, n, page stems… → {gen, fresh, items, pages}. */
const READ = `${G}
local fresh = redis.call('EXISTS', 'catalog:fresh')
local floor = tonumber(redis.call('GET', 'catalog:list:floor') or '0')
local token = ARGV[1]
${ITEM_FN}
local i = 3
local items = {}
for j = 1, tonumber(ARGV[i]) do items[j] = item(ARGV[i + j]) end
i = i + tonumber(ARGV[i]) + 1
local pages = {}
for j = 1, tonumber(ARGV[i]) do
  local entry = false
  local v = redis.call('GET', 'catalog:list:' .. ARGV[i + j])
  if v then
    local pg, rc, total, stems = string.match(v, '^(%d+)|(%d+)|(%d+)|(.*)$')
    if pg == g and tonumber(rc) >= floor then
      local members = {}
      for stem in string.gmatch(stems, '%S+') do members[#members + 1] = item(stem) end
      entry = {v, members}
    end
  end
  pages[j] = entry
end
return {g, fresh, items, pages}`;

/**
 * ARGV: gen seen, ttl s, token, n, (stem, id, version, json)…, n, (page stem, row_changes, total, stems)…
 * An item is filled only if its lease is still the token (no write since the miss);
 * a page only if it is not below the list's floor (no insert or delete since it was read).
 */
const FILL = `${G}
if g ~= ARGV[1] then return 0 end
local filled = 0
local i = 4
local n = tonumber(ARGV[i])
i = i + 1
for j = 1, n do
  local lease = 'catalog:item:' .. ARGV[i] .. ':lease'
  if redis.call('GET', lease) == ARGV[3] then
    redis.call('SET', 'catalog:item:' .. ARGV[i] .. ':v',
      g .. '|' .. ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3], 'EX', ARGV[2])
    redis.call('DEL', lease)
    filled = filled + 1
  end
  i = i + 4
end
local floor = tonumber(redis.call('GET', 'catalog:list:floor') or '0')
n = tonumber(ARGV[i])
i = i + 1
for j = 1, n do
  if tonumber(ARGV[i + 1]) >= floor then
    redis.call('SET', 'catalog:list:' .. ARGV[i],
      g .. '|' .. ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3], 'EX', ARGV[2])
    filled = filled + 1
  end
  i = i + 4
end
return filled`;

// Whether the entry in v is of generation g and at least (id, version).
const AT_LEAST_FN = `local function at_least(v, id, version)
  if not v then return false end
  local vg, vid, vv = string.match(v, '^(%d+)|(%d+)|(%d+)|')
  if vg ~= g then return false end
  vid, vv = tonumber(vid), tonumber(vv)
  return vid > id or (vid == id and vv >= version)
end`;

/**
 * ARGV: ttl s, stem, id, version, json, order number. A purchase's new state of an item,
 * in place: replaces an entry of this generation that is older, never creates one (an
 * entry evicted meanwhile must not come back older than a later write), and takes the
 * lease of any read in flight (it may have read the row before the purchase). An entry
 * under the new order's number is from before a restore of the database (a database
 * hands a number out once): deleted.
 */
const PURCHASED = `${G}
${AT_LEAST_FN}
${FEED_FN}
redis.call('DEL', 'order:' .. ARGV[6])
redis.call('DEL', 'catalog:item:' .. ARGV[2] .. ':lease')
local key = 'catalog:item:' .. ARGV[2] .. ':v'
local v = redis.call('GET', key)
local updated = 0
if v and string.sub(v, 1, #g + 1) == g .. '|' and not at_least(v, tonumber(ARGV[3]), tonumber(ARGV[4])) then
  redis.call('SET', key, g .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5], 'EX', ARGV[1])
  updated = 1
end
local a = announce(ARGV[2])
return {updated, a[1], a[2]}`;

/** ARGV: list floor or '', stems…: each item's prefix deleted; the list's floor raised; the change announced. */
const CLEAR = `${FEED_FN}
for i = 2, #ARGV do
  redis.call('DEL', 'catalog:item:' .. ARGV[i] .. ':v', 'catalog:item:' .. ARGV[i] .. ':lease')
end
if ARGV[1] ~= '' and tonumber(ARGV[1]) > tonumber(redis.call('GET', 'catalog:list:floor') or '0') then
  redis.call('SET', 'catalog:list:floor', ARGV[1])
end
local a = announce((ARGV[1] ~= '' and '${LIST} ' or '') .. table.concat(ARGV, ' ', 2))
return {#ARGV - 1, a[1], a[2]}`;

/**
 * ARGV: mark until (Redis ms), fresh ms, ttl s, list floor or '', n, (stem, id, version, json)…:
 * the relay's cycle. An entry older than its row's state is brought up to it in place
 * (as PURCHASED: never created) and any lease taken; the floor raised; then the mark
 * renewed — or, if it had lapsed (the relay was away, Redis restarted or was flushed),
 * every entry dropped first by a new generation, and the mark set from Redis's clock
 * now (everything reachable after the new generation is newer than it). While another
 * relay holds the mark (HOLD), neither: the mark is left to lapse.
 * → {entries brought forward, 1 if the catalogue was dropped}
 */
const RELAY = `${G}
${AT_LEAST_FN}
${FEED_FN}
local updated = 0
local stems = {}
local i = 6
for j = 1, tonumber(ARGV[5]) do
  local stem = ARGV[i]
  stems[j] = stem
  local key = 'catalog:item:' .. stem .. ':v'
  local v = redis.call('GET', key)
  if not at_least(v, tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) then
    if v and string.sub(v, 1, #g + 1) == g .. '|' then
      redis.call('SET', key, g .. '|' .. ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3], 'EX', ARGV[3])
      updated = updated + 1
    end
    redis.call('DEL', 'catalog:item:' .. stem .. ':lease')
  end
  i = i + 4
end
if ARGV[4] ~= '' and tonumber(ARGV[4]) > tonumber(redis.call('GET', 'catalog:list:floor') or '0') then
  redis.call('SET', 'catalog:list:floor', ARGV[4])
  updated = updated + 1
end
if #stems > 0 or ARGV[4] ~= '' then announce((ARGV[4] ~= '' and '${LIST} ' or '') .. table.concat(stems, ' ')) end
if redis.call('EXISTS', 'catalog:relay:hold') == 1 then return {updated, 0} end
if redis.call('SET', 'catalog:fresh', '1', 'XX', 'PXAT', ARGV[1]) then return {updated, 0} end
redis.call('INCR', 'catalog:gen')
announce('*')
redis.call('SET', 'catalog:fresh', '1', 'PXAT', now() + tonumber(ARGV[2]))
return {updated, 1}`;

/** ARGV: order number → {gen, the order's entry or false}. */
const ORDER = `${G}
return {g, redis.call('GET', 'order:' .. ARGV[1])}`;

/**
 * ARGV: fresh ms, hold token or '': every entry dropped (a new generation), then the
 * mark set from Redis's clock now, and this relay's hold (if it is still its) let go.
 */
const DROP = `${FEED_FN}
redis.call('INCR', 'catalog:gen')
local a = announce('*')
redis.call('SET', 'catalog:fresh', '1', 'PXAT', now() + tonumber(ARGV[1]))
if ARGV[2] ~= '' and redis.call('GET', 'catalog:relay:hold') == ARGV[2] then redis.call('DEL', 'catalog:relay:hold') end
return {1, a[1], a[2]}`;

/**
 * ARGV: token, ms: the mark held by this relay (no relay renews it, so it lapses)
 * while it deletes outbox rows it has not applied; DROP with the token lets go.
 */
const HOLD = `redis.call('SET', 'catalog:relay:hold', ARGV[1], 'PX', ARGV[2])
redis.call('DEL', 'catalog:fresh')
return 1`;

type ReadReply = [string, number, (string | null)[], ([string, (string | null)[]] | null)[]];

/** What one read of Redis found: a null is a miss (with a lease taken when Redis is trusted). */
export type CacheRead = {
  gen: string;
  /** The relay's mark was there: what was found may be served, and what missed may be filled. */
  fresh: boolean;
  items: (StoredItem | null)[];
  pages: ({ page: StoredPage; members: (StoredItem | null)[] } | null)[];
};

/** A relay cycle's item row: the key's state after a change (`json` "null" for none). */
export type Change = { stem: string } & StoredItem;

const parseItem = (v: string | null): StoredItem | null => {
  if (v === null) return null;
  const a = v.indexOf("|");
  const b = v.indexOf("|", a + 1);
  const c = v.indexOf("|", b + 1);
  return { id: Number(v.slice(a + 1, b)), version: Number(v.slice(b + 1, c)), json: v.slice(c + 1) };
};

const parsePage = (v: string): StoredPage => {
  const [, rowChanges, total, stems] = v.split("|", 4) as [string, string, string, string];
  return { rowChanges: Number(rowChanges), total: Number(total), stems: stems ? stems.split(" ") : [] };
};

let tokens = 0;
const TOKEN_PREFIX = crypto.randomUUID().slice(0, 8);

/**
 * The catalogue's operations on Redis, for the APIs.
 * @example
 * const redis = catalogCache(cache);
 * const found = await redis.read(["tux"], []); // stems of items, page queries
 */
export function catalogCache(cache: Cache) {
  const read = cache.script<ReadReply>(READ);
  const fill = cache.script<number>(FILL);
  const purchased = cache.script<[number, string | number, number]>(PURCHASED);
  const clear = cache.script<[number, string | number, number]>(CLEAR);
  const relay = cache.script<[number, number]>(RELAY);
  const drop = cache.script<[number, string | number, number]>(DROP);
  const hold = cache.script<number>(HOLD);
  const order = cache.script<[string | number, string | null]>(ORDER);
  const ttl = String(cache.ttlSeconds);

  return {
    /** The change feed and the web servers' grants (feed.ts). */
    feed: catalogFeed(cache),

    /** The items (by stem) and pages, with one lease token for what missed. */
    async read(stems: string[], pages: PageQuery[]): Promise<CacheRead & { token: string }> {
      const token = `${TOKEN_PREFIX}.${++tokens}`;
      const [gen, fresh, items, found] = await read([
        token,
        String(LEASE_MS),
        String(stems.length),
        ...stems,
        String(pages.length),
        ...pages.map(pageStem),
      ]);
      return {
        token,
        gen: String(gen),
        fresh: Number(fresh) === 1,
        items: items.map(parseItem),
        pages: found.map((p) => p && { page: parsePage(p[0]), members: p[1].map(parseItem) }),
      };
    },

    /** Fills what a read missed, if nothing changed since (see FILL): how many were stored. */
    fill(
      seen: { gen: string; token: string },
      items: { stem: string; item: StoredItem }[],
      pages: { query: PageQuery; page: StoredPage }[],
    ): Promise<number> {
      return fill([
        seen.gen,
        ttl,
        seen.token,
        String(items.length),
        ...items.flatMap(({ stem, item }) => [stem, String(item.id), String(item.version), item.json]),
        String(pages.length),
        ...pages.flatMap(({ query, page }) => [
          pageStem(query),
          String(page.rowChanges),
          String(page.total),
          page.stems.join(" "),
        ]),
      ]);
    },

    /** A purchase's new state of the item, in place, and its order's number freed (see PURCHASED); the change announced. */
    purchased: async (stem: string, item: StoredItem, orderNumber: number): Promise<Announced> => {
      const [, id, seq] = await purchased([
        ttl,
        stem,
        String(item.id),
        String(item.version),
        item.json,
        String(orderNumber),
      ]);
      return announced([id, seq]);
    },

    /** An order's entry (its JSON) if it is of this generation, and the generation a fill must be stored under. */
    async readOrder(number: number): Promise<{ gen: string; json: string | null }> {
      const [gen, v] = await order([String(number)]);
      const g = String(gen);
      return { gen: g, json: v && v.startsWith(`${g}|`) ? v.slice(g.length + 1) : null };
    },

    /** Keeps an order read from the database under the generation its read saw (none newer can reach it). */
    fillOrder: (seen: { gen: string }, number: number, json: string) =>
      cache.set(orderEntry(number), `${seen.gen}|${json}`),

    /** Clears these items' prefixes and, after an insert or a delete, the list's (raising its floor); the change announced. */
    clear: async (stems: string[], listFloor?: number): Promise<Announced> => {
      const [, id, seq] = await clear([listFloor === undefined ? "" : String(listFloor), ...stems]);
      return announced([id, seq]);
    },

    /** One relay cycle's changes, and the mark renewed until `markUntil` (Redis's clock). */
    async relay(markUntil: number, changes: Change[], listFloor?: number) {
      const [updated, dropped] = await relay([
        String(markUntil),
        String(FRESH_MS),
        ttl,
        listFloor === undefined ? "" : String(listFloor),
        String(changes.length),
        ...changes.flatMap((c) => [c.stem, String(c.id), String(c.version), c.json]),
      ]);
      return { updated: Number(updated), dropped: Number(dropped) === 1 };
    },

    /**
     * Every entry dropped at once (a new generation), and the mark set from Redis's
     * clock; with a hold's token, that hold let go.
     */
    dropAll: async (holdToken = ""): Promise<Announced> => {
      const [, id, seq] = await drop([String(FRESH_MS), holdToken]);
      return announced([id, seq]);
    },

    /**
     * No relay renews the mark for `ms` (or until dropAll with `token`): while one
     * deletes rows it has not applied, another's renewal would vouch for them.
     */
    holdMark: (token: string, ms: number) => hold([token, String(ms)]),

    /** Redis's clock (ms): a relay cycle's mark is counted from before it read the outbox. */
    time: () => cache.time(),
  };
}

export type CatalogCache = ReturnType<typeof catalogCache>;

/** How a write reached the cache: by the writer itself, or (Redis out of its reach) by the relay. */
export type Reached = "direct" | "relayed";

/**
 * How long a writer whose own step on Redis failed waits: RELAY_BOUND_MS, by when the
 * relay has applied and announced its change or its mark has lapsed (and no grant is
 * renewed without it), then one grant, by when every grant given before that has run
 * out; with the margin for clocks' rates (lib/src/grants.ts).
 */
export const UNREACHED_BOUND_MS = pastOnEveryClock(RELAY_BOUND_MS + GRANT_MS);

/**
 * After a committed write, the writer's own step on the cache: a clear (admin-api) or
 * an update in place (a purchase), each announcing the change; then the wait for every
 * web server holding a grant to have applied it (feed.ts). If Redis cannot be reached,
 * it waits UNREACHED_BOUND_MS instead. Either way, once this resolves neither the api
 * nor any web server's memory returns the value from before the write, so the write
 * may be acknowledged (docs/internals.md, "Web's memory: leases").
 * @example
 * const cache = await directOrRelayed(() => redis.clear([stemOf(key)]), feed);
 */
export async function directOrRelayed(step: () => Promise<Announced>, feed: CatalogFeed): Promise<Reached> {
  let change: Announced;
  try {
    change = await step();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, UNREACHED_BOUND_MS));
    return "relayed";
  }
  await feed.acked(change);
  return "direct";
}
