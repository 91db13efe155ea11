// The catalogue's change feed and the web servers' grants, in Redis: what lets a web
// server serve the catalogue from its memory and still never return a value older than
// an acknowledged write (docs/internals.md, "Web's memory: leases"). In short:
//
//   feed:id      the feed's identity (made anew when Redis lost it: restart, flush)
//   feed:born    when it was made (Redis ms): grants of an older feed end by born + GRANT_MS
//   feed:seq     the last change's number
//   feed:log     the last LOG_KEEP changes: "<seq>|<ms>|<what>", what being the items'
//                stems, after "%" when the list changed too (an insert or a delete: every
//                page), or "*" for everything ("%" is no stem: a stem's % is encoded)
//   feed:grants  web id → until when (Redis ms) it may serve from memory
//   feed:acked   web id → the last change it has applied
//
// Every change is announced in the same script that brings Redis up to it (a
// purchase's update, an admin write's clear, the relay's cycle: catalog-cache.ts), so
// a web server that applied a change and then asks the api is answered with the new
// value. A writer answers once every web server holding a grant has applied its
// change, or that grant has run out (acked() below). A web server uses a grant only
// once it has applied every change announced before the grant was given (RENEW's seq).
import { GRANT_MS, LAG_MS, pastOnEveryClock } from "../grants.ts";
import type { Cache } from "./cache.ts";

export { GRANT_MS } from "../grants.ts";

/** Marks a change that changed the list (no stem is "%": encodeURIComponent encodes it). */
export const LIST = "%";
/** Changes kept for streams to catch up; a stream further behind starts over (a reset). */
const LOG_KEEP = 4096;

/** Redis's clock, in milliseconds (a Lua function `now()`: the relay's mark counts on it too). */
export const NOW_FN = `local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

// Redis's clock (NOW_FN), the feed's identity, made with the feed when Redis has none,
// and a change announced.
export const FEED_FN = `${NOW_FN}
local function feed_id()
  local id = redis.call('GET', 'feed:id')
  if id then return id end
  local t = redis.call('TIME')
  id = t[1] .. '.' .. t[2]
  redis.call('SET', 'feed:id', id)
  redis.call('SET', 'feed:born', now())
  redis.call('SET', 'feed:seq', 0)
  redis.call('DEL', 'feed:log', 'feed:grants', 'feed:acked')
  return id
end
local function announce(what)
  local id = feed_id()
  local n = redis.call('INCR', 'feed:seq')
  redis.call('RPUSH', 'feed:log', n .. '|' .. now() .. '|' .. what)
  if n % 64 == 0 then redis.call('LTRIM', 'feed:log', -${LOG_KEEP}, -1) end
  return {id, n}
end`;

// The change after `seq`, if it is still in the log: its entry, or false.
const AFTER_FN = `local function after(seq)
  local first = redis.call('LINDEX', 'feed:log', 0)
  if not first then return false end
  local f = tonumber(string.match(first, '^(%d+)|'))
  if seq + 1 < f then return 'gone' end
  return redis.call('LINDEX', 'feed:log', seq + 1 - f) or false
end`;

/**
 * ARGV: web id, its feed id, applied, grant ms, lag ms, '1' if the cache is on, '1' to give the
 * grant back (the web server has stopped using it: writers need not wait for it) → {feed id, seq, granted}.
 * Records what the web server has applied; grants (until now + grant ms) only while
 * the cache is on and Redis is trusted (the relay's mark: catalog-cache.ts) and the web server is on this
 * feed and has applied every change older than lag ms.
 */
const RENEW = `${FEED_FN}
${AFTER_FN}
local id = feed_id()
local seq = tonumber(redis.call('GET', 'feed:seq'))
if ARGV[7] == '1' then
  redis.call('HDEL', 'feed:grants', ARGV[1])
  return {id, seq, 0}
end
if ARGV[2] ~= id then return {id, seq, 0} end
local applied = tonumber(ARGV[3])
if applied > seq then return {id, seq, 0} end
redis.call('HSET', 'feed:acked', ARGV[1], applied)
if ARGV[6] ~= '1' or redis.call('EXISTS', 'catalog:fresh') == 0 then return {id, seq, 0} end
local t = now()
if applied < seq then
  local next = after(applied)
  if next == 'gone' then return {id, seq, 0} end
  if next and tonumber(string.match(next, '^%d+|(%d+)|')) < t - tonumber(ARGV[5]) then return {id, seq, 0} end
end
redis.call('HSET', 'feed:grants', ARGV[1], t + tonumber(ARGV[4]))
return {id, seq, 1}`;

/** ARGV: after, at most → {feed id, seq, entries after `after` (or 'gone' when it fell out of the log)}. */
const CHANGES = `${FEED_FN}
local id = feed_id()
local seq = tonumber(redis.call('GET', 'feed:seq'))
local from = tonumber(ARGV[1])
if from >= seq then return {id, seq, {}} end
local first = redis.call('LINDEX', 'feed:log', 0)
if not first then return {id, seq, 'gone'} end
local f = tonumber(string.match(first, '^(%d+)|'))
if from + 1 < f then return {id, seq, 'gone'} end
local entries = redis.call('LRANGE', 'feed:log', from + 1 - f, from + tonumber(ARGV[2]) - f)
if #entries == 0 then return {id, seq, 'gone'} end
return {id, seq, entries}`;

/**
 * → {feed id, born, now, the least change applied by a web server holding a grant
 * (-1 when none holds one)}. Grants that ran out a minute ago are forgotten.
 */
const PENDING = `${FEED_FN}
local id = feed_id()
local t = now()
local least = -1
local grants = redis.call('HGETALL', 'feed:grants')
for i = 1, #grants, 2 do
  local until_ms = tonumber(grants[i + 1])
  if until_ms > t then
    local acked = tonumber(redis.call('HGET', 'feed:acked', grants[i]) or '0')
    if least < 0 or acked < least then least = acked end
  elseif until_ms < t - 60000 then
    redis.call('HDEL', 'feed:grants', grants[i])
    redis.call('HDEL', 'feed:acked', grants[i])
  end
end
return {id, tonumber(redis.call('GET', 'feed:born')), t, least}`;

/** A change as announced: which feed, its number. */
export type Announced = { feed: string; seq: number };

/**
 * What a change invalidates: these items (stems) and the pages showing them, every page
 * too when `list` (an insert or a delete), or everything ("*").
 */
export type Change = { seq: number; stems: string[] | "*"; list?: true };

/** The feed since a point: its identity, its last change, and the changes after (or "gone": start over). */
export type Changes = { feed: string; seq: number; changes: Change[] | "gone" };

/** A renewal's answer: the feed, its last change (to apply before using the grant), and whether it was granted. */
export type Renewal = { feed: string; seq: number; granted: boolean };

/** Parses a script's announcement ({id, n}). */
export const announced = (reply: [string | number, number]): Announced => ({
  feed: String(reply[0]),
  seq: Number(reply[1]),
});

const parseChange = (entry: string): Change => {
  const a = entry.indexOf("|");
  const b = entry.indexOf("|", a + 1);
  const what = entry.slice(b + 1);
  const seq = Number(entry.slice(0, a));
  if (what === "*") return { seq, stems: "*" };
  const stems = what ? what.split(" ") : [];
  return stems[0] === LIST ? { seq, stems: stems.slice(1), list: true } : { seq, stems };
};

/**
 * How often a writer waiting for acknowledgements asks Redis again; and at once when a
 * renewal reaches this process (acked() below): most acknowledgements then need no
 * timer. Every millisecond cost a three-node run's purchases about 28 % of their rate
 * (each poll a round trip through the REST endpoint, per api instance).
 */
const ACK_POLL_MS = 3;

/**
 * The longest a write waits, from its announcement: a web server that has not applied
 * it is not renewed once it is LAG_MS old, so every grant that could miss it ends one
 * grant later (with the clocks' margin). Also when Redis cannot be asked meanwhile.
 */
export const ACK_BOUND_MS = pastOnEveryClock(LAG_MS + GRANT_MS);

type Waiter = Announced & { resolve: () => void; until: number };

/**
 * The feed's operations, and the writers' wait for web servers' acknowledgements
 * (one poll of Redis every ACK_POLL_MS per process while any write waits, however
 * many, and one at once when a renewal comes in).
 * @example
 * const feed = catalogFeed(cache);
 * await feed.acked(await redis.clear(["tux"])); // every web server holding a grant has applied it
 */
export function catalogFeed(cache: Cache) {
  const renew = cache.script<[string | number, number, number]>(RENEW);
  const changes = cache.script<[string | number, number, string[] | string]>(CHANGES);
  const pending = cache.script<[string | number, number, number, number]>(PENDING);
  const waiters = new Set<Waiter>();
  const watchers = new Set<() => void>();
  let polling = false;
  const stats = { waits: 0, polls: 0 };

  let wake: (() => void) | undefined;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      while (waiters.size) {
        stats.polls++;
        let reply: [string | number, number, number, number] | undefined;
        try {
          reply = await pending([]);
        } catch {
          // Redis away: the grants run out on their own (they cannot be renewed), and
          // no write waits past its bound.
        }
        const t = performance.now();
        for (const w of waiters) {
          let done = t >= w.until;
          if (reply && !done) {
            const [id, born, now, least] = reply;
            done = String(id) === w.feed
              ? least < 0 || least >= w.seq
              // A new feed (Redis lost the old one): the old feed's grants end by born + GRANT_MS.
              : now >= Number(born) + GRANT_MS;
          }
          if (done) {
            waiters.delete(w);
            w.resolve();
          }
        }
        if (waiters.size) {
          await new Promise<void>((r) => {
            const timer = setTimeout(r, reply ? ACK_POLL_MS : 50);
            wake = () => (clearTimeout(timer), r());
          });
          wake = undefined;
        }
      }
    } finally {
      polling = false;
    }
  };

  return {
    /** A web server's renewal, which also says what it has applied; or its grant given back (see RENEW). */
    async renew(
      web: string,
      feed: string,
      applied: number,
      { grantable = true, release = false } = {},
    ): Promise<Renewal> {
      const [id, seq, granted] = await renew([
        web,
        feed,
        String(applied),
        String(GRANT_MS),
        String(LAG_MS),
        grantable ? "1" : "0",
        release ? "1" : "0",
      ]);
      // An acknowledgement: a write waiting here may be done.
      wake?.();
      return { feed: String(id), seq: Number(seq), granted: Number(granted) === 1 };
    },

    /** The changes after `after` (at most `max`), or "gone" when they are no longer kept. */
    async changes(after: number, max = 512): Promise<Changes> {
      const [id, seq, entries] = await changes([String(after), String(max)]);
      return {
        feed: String(id),
        seq: Number(seq),
        changes: typeof entries === "string" ? "gone" : entries.map(parseChange),
      };
    },

    /**
     * Resolves once every web server holding a grant has applied `change`, or its
     * grant has run out: GRANT_MS at most for one paused or killed, ACK_BOUND_MS
     * (LAG_MS + GRANT_MS) for any, Redis answering or not.
     */
    acked(change: Announced): Promise<void> {
      stats.waits++;
      for (const watcher of watchers) watcher();
      return new Promise<void>((resolve) => {
        waiters.add({ ...change, resolve, until: performance.now() + ACK_BOUND_MS });
        void poll();
      });
    },

    /** Calls `fn` whenever a write here announced a change (the api's streams look at once). */
    watch(fn: () => void) {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },

    stats: () => ({ ...stats, waiting: waiters.size }),
  };
}

export type CatalogFeed = ReturnType<typeof catalogFeed>;
