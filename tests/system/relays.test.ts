// Several relays at once (api/src/relay.ts), as API_SERVERS=2 runs them: the test
// stack's api's, and two more in this process on the same MariaDB and Redis. While
// a writer changes an item under them — with nothing but the relays bringing Redis up
// to date (the writer is plain SQL) — and a backlog makes them drop the catalogue,
// a watcher reads Redis's clock, the freshness mark and the item's entry in one step,
// over and over. Every look must show: an entry never older than one seen before it
// (in one generation), and never older than a change committed before the cycle the
// mark vouches for began (docs/internals.md, "APIs replicated").
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cacheRelay } from "../../api/src/relay.ts";
import { catalogCache, FRESH_MS, stemOf } from "../../lib/src/data/catalog-cache.ts";
import { createDb, type Db } from "../../lib/src/data/db.ts";
import { nameKey } from "../../lib/src/name-key.ts";
import { dbConfig, testCache, uniqueName } from "../../testutil/src/test-stack.ts";
import { createItem, productVia, restore } from "./helpers.ts";
import { directRedis } from "./redis.ts";
import { env, eventually, stack } from "./stack.ts";

setDefaultTimeout(60_000);

const apiDb = createDb(dbConfig("api"));
const adminDb = createDb(dbConfig("admin"));
const redis = directRedis();
const relays = [1, 2].map(() => cacheRelay({ db: apiDb, redis: catalogCache(testCache()), log: () => {} }));
afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await apiDb.close();
  await adminDb.close();
  redis.close();
});

/** Redis's clock, the mark's expiry (ms, or < 0 when there is none), the generation, and an entry: in one step. */
const LOOK = `local t = redis.call('TIME')
return {t[1] * 1000 + math.floor(t[2] / 1000), redis.call('PEXPIRETIME', 'catalog:fresh'),
  redis.call('GET', 'catalog:gen') or '0', redis.call('GET', KEYS[1]) or ''}`;
type Look = { at: number; markUntil: number; gen: string; version?: number };

async function look(key: string): Promise<Look> {
  const [at, markUntil, gen, entry] = await redis.command<[number, number, string, string]>(
    "EVAL",
    LOOK,
    "1",
    key,
  );
  const [g, , version] = entry.split("|");
  return { at, markUntil, gen, version: entry && g === gen ? Number(version) : undefined };
}

const redisNow = async () => {
  const [s, us] = await redis.command<[string, string]>("TIME");
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
};

describe("three relays at once (the test stack's api's and two more)", () => {
  test("an entry never goes back, and a renewed mark never vouches for an entry older than a change committed before it", async () => {
    stack();
    const name = uniqueName("Relayed");
    const other = uniqueName("Backlog");
    await createItem(name, 50);
    await createItem(other, 50);
    const key = `catalog:item:${stemOf(nameKey(name))}:v`;
    const [first] = await adminDb.query<{ version: number }>("SELECT version FROM items WHERE name = ?", [
      name,
    ]);
    for (const r of relays) r.start();

    // Changes by SQL alone: version → when it was known committed (Redis's clock, after the COMMIT).
    const committed: { version: number; by: number }[] = [{ version: Number(first!.version), by: 0 }];
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 300; i++) {
        await adminDb.execute("UPDATE items SET price = ? WHERE name = ?", [10 + (i % 50) / 100, name]);
        committed.push({ version: Number(first!.version) + i, by: await redisNow() });
        if (i === 150) {
          // A backlog longer than a relay's batch (1,000 rows): the relays drop the
          // catalogue, one of them holding the mark meanwhile.
          await adminDb.transaction(async (conn) => {
            for (let j = 0; j < 1100; j++) {
              await conn.execute("UPDATE items SET quantity = ? WHERE name = ?", [j % 100, other]);
            }
          }, { deadline: Date.now() + 30_000 });
        }
      }
      writing = false;
    })();
    // A reader keeps the entry in Redis (fills after every drop or clear).
    const reader = (async () => {
      while (writing) await productVia(env("STORE_URL"), name);
    })();
    const looks: Look[] = [];
    while (writing) looks.push(await look(key));
    await Promise.all([writer, reader]);
    // The next test wants only its own relays (and stops the stack's).
    await Promise.all(relays.map((r) => r.stop()));

    const vouched = (l: Look) => {
      // The newest change known committed before the cycle the mark vouches for began.
      const began = l.markUntil - FRESH_MS;
      return Math.max(...committed.filter((c) => c.by < began).map((c) => c.version));
    };
    const backwards: Look[] = [];
    const stale: (Look & { vouched: number })[] = [];
    for (const [i, l] of looks.entries()) {
      if (l.version === undefined) continue;
      const before = looks.slice(0, i).findLast((p) => p.gen === l.gen && p.version !== undefined);
      if (before && l.version < before.version!) backwards.push(l);
      if (l.markUntil > l.at && l.version < vouched(l)) stale.push({ ...l, vouched: vouched(l) });
    }
    const withEntryAndMark = looks.filter((l) => l.version !== undefined && l.markUntil > l.at).length;
    expect({ backwards, stale: stale.slice(0, 5) }).toEqual({ backwards: [], stale: [] });
    expect(withEntryAndMark).toBeGreaterThan(100);
    expect(new Set(looks.map((l) => l.gen)).size).toBeGreaterThan(1); // the backlog dropped the catalogue

    // Once the relays are through: the entry, if any, is the last change.
    await eventually(
      async () => (await stack().sql("SELECT COUNT(*) FROM bazaar.catalog_outbox")).trim().endsWith("\n0"),
      5000,
      20,
    );
    const last = await look(key);
    if (last.version !== undefined) expect(last.version).toBe(committed.at(-1)!.version);
    console.log(
      `[relays] 3 relays, 300 changes and a backlog of 1,100: ${looks.length} looks (${withEntryAndMark} with an entry and a mark), ${
        new Set(looks.map((l) => l.gen)).size
      } generations; none went back, none stale under a mark`,
    );
  });

  test("a relay deleting a backlog it has not applied holds the mark: another relay's cycle meanwhile does not renew it", async () => {
    const name = uniqueName("Held mark");
    const other = uniqueName("Held backlog");
    await createItem(name, 50);
    await createItem(other, 50);
    await productVia(env("STORE_URL"), name); // its entry in Redis
    const key = `catalog:item:${stemOf(nameKey(name))}:v`;
    await eventually(async () => (await look(key)).version !== undefined, 5000, 20);
    // Only the relays of this test from here on.
    await stack().stop("api");
    try {
      // A's delete of the backlog is held right after its first statement ran.
      let release!: () => void;
      let held!: () => void;
      const reached = new Promise<void>((r) => (held = r));
      const gate = new Promise<void>((r) => (release = r));
      const slowDb: Db = {
        ...apiDb,
        execute: async (sql: string, params?: unknown[]) => {
          const result = await apiDb.execute(sql, params);
          if (/DELETE FROM catalog_outbox WHERE seq <=/.test(sql)) {
            held();
            await gate;
          }
          return result;
        },
      };
      const a = cacheRelay({ db: slowDb, redis: catalogCache(testCache()), log: () => {} });
      const b = cacheRelay({ db: apiDb, redis: catalogCache(testCache()), log: () => {} });
      await b.cycle(); // the mark renewed, the outbox empty
      // A change of the item, and behind it a backlog longer than a relay's batch.
      await adminDb.transaction(async (conn) => {
        await conn.execute("UPDATE items SET price = 42.42 WHERE name = ?", [name]);
        for (let j = 0; j < 1100; j++) {
          await conn.execute("UPDATE items SET quantity = ? WHERE name = ?", [j % 100, other]);
        }
      }, { deadline: Date.now() + 30_000 });
      const [row] = await adminDb.query<{ version: number }>("SELECT version FROM items WHERE name = ?", [
        name,
      ]);
      const cycleA = a.cycle();
      await reached; // A has deleted the rows, unapplied, and not yet dropped the catalogue
      const before = await look(key);
      expect(before.version).toBeLessThan(Number(row!.version)); // the entry is stale
      await b.cycle();
      const during = await look(key);
      // B's cycle left the mark alone: no reader trusts the stale entry.
      expect({ mark: during.markUntil > during.at, gen: during.gen }).toEqual({
        mark: false,
        gen: before.gen,
      });
      release();
      await cycleA;
      await b.cycle();
      const after = await look(key);
      // A dropped the catalogue (a new generation: the stale entry is gone), and B renews the mark again.
      expect({ mark: after.markUntil > after.at, newGen: after.gen !== before.gen, entry: after.version })
        .toEqual({ mark: true, newGen: true, entry: undefined });
      expect(await redis.exists("catalog:relay:hold")).toBe(0);
    } finally {
      await restore("api");
    }
  });
});
