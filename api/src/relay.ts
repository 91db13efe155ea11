// The relay: applies the cache's outbox (db/init.sql catalog_outbox, written by the
// triggers in the same transaction as every change of an item) to Redis, and renews
// the freshness mark without which no reader trusts Redis. Normally the writers have
// made their entries current themselves, and it brings forward only a purchase's
// entry whose own update is still on its way; it is what keeps the cache true when a
// writer could not reach Redis, or died before it did.
//
// One cycle: Redis's clock (t0); the outbox's oldest rows; each entry older than its
// row brought up to the row's state in place, the list's floor raised, the mark renewed
// until t0 + FRESH_MS — all in one script — and the rows deleted. So a mark, wherever a
// reader finds it, vouches that every change committed before its cycle began is in
// Redis (docs/internals.md, The cache). A mark found lapsed (the relay was away, Redis
// restarted or flushed) drops every entry first; so does a database found gone back
// (restored from a backup: the newest order the last cycle saw is gone, or another
// under its number), which would hand out order numbers Redis holds orders under.
import {
  type CatalogCache,
  type Change,
  FRESH_MS,
  RELAY_EVERY_MS,
  stemOf,
} from "@bazaar/lib/data/catalog-cache.ts";
import {
  deleteOutbox,
  deleteOutboxThrough,
  lastOutboxSeq,
  selectOutbox,
} from "@bazaar/lib/data/catalog-db.ts";
import type { Db } from "@bazaar/lib/data/db.ts";
import { type OrderPrint, orderPrints } from "@bazaar/lib/data/orders.ts";
import { describeError, jsonLines, type Log } from "@bazaar/lib/log.ts";

/**
 * How long a relay holds the mark while it deletes a backlog: far longer than deleting
 * one takes (10,000 rows a statement). If it dies holding it, readers use the database
 * until then, and the next cycle drops the catalogue (the mark has lapsed).
 */
const HOLD_MS = 60_000;

export type RelayStats = {
  cycles: number;
  /** Outbox rows applied. */
  rows: number;
  /** Entries brought forward to their row (a writer's own step had not reached Redis, or not yet), and floors raised. */
  updated: number;
  /**
   * Times every entry was dropped: the mark had lapsed, the backlog was more than one
   * cycle's batch, or the database had gone back.
   */
  dropped: number;
  /** Cycles that failed (Redis or MySQL away): the mark lapses, and readers go to MySQL. */
  failed: number;
};

export type RelayOptions = {
  db: Db;
  redis: CatalogCache;
  log?: Log;
  everyMs?: number;
  freshMs?: number;
  /** Rows one cycle applies; a longer backlog drops the whole catalogue instead. */
  batch?: number;
};

export type Relay = {
  /** One cycle now (the timer runs them; tests call it). */
  cycle(): Promise<void>;
  start(): void;
  /** Stops the timer; resolves once a cycle under way has finished. */
  stop(): Promise<void>;
  stats(): RelayStats;
};

/**
 * @example
 * const relay = cacheRelay({ db, redis: catalogCache(cache) });
 * relay.start(); // … await relay.stop();
 */
export function cacheRelay(
  { db, redis, log = jsonLines, everyMs = RELAY_EVERY_MS, freshMs = FRESH_MS, batch = 1000 }: RelayOptions,
): Relay {
  const stats: RelayStats = { cycles: 0, rows: 0, updated: 0, dropped: 0, failed: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let healthy = true;
  /** The newest order the last cycle saw (none yet: the first cycle after a start finds the mark lapsed anyway). */
  let newestOrder: OrderPrint | undefined;

  const say = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    log({ level, time: new Date().toISOString(), service: "api", msg, ...extra });

  const once = async () => {
    const t0 = await redis.time();
    const [rows, orders] = await Promise.all([selectOutbox(db, batch), orderPrints(db, newestOrder?.number)]);
    if (newestOrder && orders.numbered?.print !== newestOrder.print) {
      // Restored from a backup, or made anew: its order numbers (and items) went back.
      // Every entry goes, orders too, before the mark is renewed; remembered only once
      // that is done, so a failed drop is tried again by the next cycle.
      await redis.dropAll();
      stats.dropped++;
      say(
        "warn",
        `cache relay: the database went back (order ${newestOrder.number} is gone or another); dropped every entry`,
      );
    }
    newestOrder = orders.newest;
    if (rows.length >= batch) {
      // A backlog longer than a cycle (a bulk load, or a long outage): drop everything
      // once, then the rows — every one of them committed before the new generation.
      // Meanwhile the mark is held: another relay (another api instance) renewing it
      // between the delete and the drop would vouch for rows deleted unapplied.
      const token = crypto.randomUUID();
      await redis.holdMark(token, HOLD_MS);
      await deleteOutboxThrough(db, await lastOutboxSeq(db));
      await redis.dropAll(token);
      stats.dropped++;
      say("info", "cache relay: a backlog of more than one cycle; dropped every catalogue entry");
      return;
    }
    // One change per item: its newest.
    const newest = new Map<string, Change>();
    let floor: number | undefined;
    for (const row of rows) {
      const stem = stemOf(row.key);
      const had = newest.get(stem);
      if (!had || row.id > had.id || (row.id === had.id && row.version > had.version)) {
        newest.set(stem, { stem, id: row.id, version: row.version, json: JSON.stringify(row.item) });
      }
      if (row.rowChanges !== null) floor = Math.max(floor ?? 0, row.rowChanges);
    }
    const { updated, dropped } = await redis.relay(t0 + freshMs, [...newest.values()], floor);
    stats.updated += updated;
    if (dropped) {
      stats.dropped++;
      say(
        "info",
        "cache relay: the freshness mark had lapsed (first start, relay away, Redis restarted or flushed); dropped every catalogue entry",
      );
    }
    await deleteOutbox(db, rows.map((r) => r.seq));
    stats.rows += rows.length;
  };

  const cycle = async () => {
    stats.cycles++;
    try {
      await once();
      if (!healthy) say("info", "cache relay is back");
      healthy = true;
    } catch (err) {
      stats.failed++;
      if (healthy) {
        say("warn", "cache relay failed; readers use the database until it is back", {
          error: describeError(err),
        });
      }
      healthy = false;
    }
  };

  const schedule = () => {
    timer = setTimeout(() => {
      running = cycle().finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
    }, everyMs);
  };

  return {
    cycle,
    start() {
      if (timer === undefined && !stopped) schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    stats: () => ({ ...stats }),
  };
}
