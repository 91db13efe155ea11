// Integration: the catalogue in Redis (lib/src/data/catalog-cache.ts, api/src/catalog-reads.ts,
// api/src/relay.ts), against the test stack's real MariaDB, bridge and Redis — whose
// api runs the relay that renews the freshness mark. Reads come from Redis and MySQL
// only on a miss; every write makes its entries current before it is answered, also
// when it races a fill, when the writer cannot reach Redis, and when the relay is away.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp as createAdminApi } from "../../admin-api/src/app.ts";
import { createApp as createApi } from "../../api/src/app.ts";
import { catalogReads } from "../../api/src/catalog-reads.ts";
import { createCache } from "../../lib/src/data/cache.ts";
import { catalogCache, RELAY_BOUND_MS, stemOf } from "../../lib/src/data/catalog-cache.ts";
import { nameKey } from "../../lib/src/name-key.ts";
import { createDb, type Db } from "../../lib/src/data/db.ts";
import { cacheConfig, dbConfig, testCache, uniqueName } from "../../testutil/src/test-stack.ts";
import { productVia, record, restore, since } from "./helpers.ts";
import { directRedis } from "./redis.ts";
import { env, eventually, stack } from "./stack.ts";

setDefaultTimeout(30_000);

const token = "cache-test-token";
const quiet = () => {};
const apiDb = createDb(dbConfig("api"));
const adminDb = createDb(dbConfig("admin"));
const cache = testCache();
/** Redis itself (its port, its password): what the tests look into and flush. */
const redis = directRedis();
/** A cache whose endpoint cannot be reached: a writer cut off from Redis. */
const cutOff = () =>
  createCache({ ...cacheConfig(), UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", CACHE_TIMEOUT_MS: 200 }, {
    log: quiet,
  });
const admin = createAdminApi({ db: adminDb, cache, token, log: quiet });
const api = createApi({ db: apiDb, cache, token, log: quiet });
afterAll(async () => {
  await apiDb.close();
  await adminDb.close();
  redis.close();
});

const auth = { Authorization: `Bearer ${token}` };
const call = (app: { request: typeof admin.request }, method: string, path: string, body?: unknown) =>
  app.request(path, {
    method,
    headers: { ...auth, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
/**
 * Until the relay has applied every outbox row (it drops the lease of a read in flight,
 * once). If it has not within 2 s, the error says what the relay and the outbox were
 * doing: the api's relay counts and the oldest rows still there.
 */
const relayed = async () => {
  try {
    await eventually(
      async () => (await stack().sql("SELECT COUNT(*) FROM bazaar.catalog_outbox")).trim().endsWith("\n0"),
      2000,
      10,
    );
  } catch (err) {
    const relay = await fetch(`${env("API_URL")}/healthz`).then((r) => r.text(), (e) => String(e));
    const rows = await stack().sql(
      "SELECT seq, item_id, version, name, row_changes FROM bazaar.catalog_outbox ORDER BY seq LIMIT 5",
    ).catch((e) => String(e));
    throw new Error(`${err}: the outbox was not drained; api /healthz: ${relay}; oldest rows:\n${rows}`);
  }
};
const add = async (name: string, quantity = 50, price = 12.49, writer = admin) => {
  const res = await call(writer, "POST", "/items", { name, quantity, price });
  expect(res.status).toBe(201);
  await relayed();
  return (await res.json()) as { data: { cache: string } };
};
const setPrice = async (name: string, price: number, writer = admin) => {
  const res = await call(writer, "PATCH", `/items/${encodeURIComponent(name)}`, { price });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { cache: string } }).data.cache;
};
const purchase = async (name: string, quantity = 1) =>
  expect((await call(api, "POST", "/orders", { name, quantity })).status).toBe(200);

/**
 * A pool that counts statements, and can hold one: the statement runs, then its rows
 * are held until released — a read that has read MySQL and not yet filled Redis.
 */
function heldDb(db: Db) {
  let statements = 0;
  let hold: { pattern: RegExp; reached: () => void; gate: Promise<void> } | undefined;
  const wrapped: Db = {
    ...db,
    query: async <T>(sql: string, params?: unknown[]) => {
      statements++;
      const rows = await db.query<T>(sql, params);
      if (hold && hold.pattern.test(sql)) {
        const h = hold;
        hold = undefined;
        h.reached();
        await h.gate;
      }
      return rows;
    },
  };
  return {
    db: wrapped,
    statements: () => statements,
    /** Holds the next statement matching `pattern` after it ran: resolves once one is held, with its release. */
    hold(pattern: RegExp) {
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held = new Promise<void>((r) => (reached = r));
      hold = { pattern, reached, gate };
      return { held, release };
    },
  };
}

/** A reader of its own (the api's read-through, in-process) over a pool it can count and hold. */
function reader() {
  const pool = heldDb(apiDb);
  const reads = catalogReads({ db: pool.db, cache, redis: catalogCache(cache) });
  const item = async (name: string) => (await reads.read([name], [])).items[0];
  const page = async (q: string) => (await reads.read([], [{ page: 1, per_page: 24, q }])).pages[0]!;
  return { pool, reads, item, page };
}

const entry = (name: string) => redis.get(`catalog:item:${stemOf(nameKey(name))}:v`);

describe("reads from Redis, MySQL only on a miss", () => {
  test("an item: the first read misses and fills; every read after it is a hit with no statement", async () => {
    const name = uniqueName("Cache hit");
    await add(name);
    const r = reader();
    expect((await r.item(name))?.item).toEqual({ name, quantity: 50, price: 12.49 });
    expect(r.pool.statements()).toBe(1);
    for (let i = 0; i < 5; i++) expect((await r.item(name))?.item.quantity).toBe(50);
    expect(r.pool.statements()).toBe(1);
    expect(r.reads.stats()).toMatchObject({ reads: 6, hits: 5, db_queries: 1, fills: 1 });
    // An unknown name is remembered as unknown too.
    const none = uniqueName("No such toy");
    expect(await r.item(none)).toBeNull();
    expect(await r.item(none)).toBeNull();
    expect(r.pool.statements()).toBe(2);
  });

  test("a page: its names and their items from Redis; a purchase updates its item in place and the page stays cached", async () => {
    const tag = uniqueName("Paged").replaceAll(" ", "");
    for (const n of ["a", "b", "c"]) await add(`${tag} ${n}`, 10);
    const r = reader();
    const first = await r.page(tag);
    expect(first.page.items.map((i) => i.name)).toEqual([`${tag} a`, `${tag} b`, `${tag} c`]);
    expect(first.page.total).toBe(3);
    await r.page(tag); // the items' own entries are filled on the first read that finds them missing
    const before = r.pool.statements();
    const again = await r.page(tag);
    expect(r.pool.statements()).toBe(before);
    expect(again.etag).toBe(first.etag);

    await purchase(`${tag} b`, 4);
    expect(await entry(`${tag} b`)).toContain('"quantity":6');
    await relayed(); // its row found the entry current: nothing to do
    const after = await r.page(tag);
    expect(r.pool.statements()).toBe(before); // no statement: the page kept, the item updated in place
    expect(after.page.items.map((i) => i.quantity)).toEqual([10, 6, 10]);
    expect(after.etag).not.toBe(first.etag);
  });

  test("with the cache off (CACHE_ENABLED=false) every read goes to MySQL", async () => {
    const name = uniqueName("Cache off");
    await add(name);
    const off = createCache({ ...cacheConfig(), CACHE_ENABLED: false }, { log: quiet });
    const pool = heldDb(apiDb);
    const reads = catalogReads({ db: pool.db, cache: off, redis: catalogCache(off) });
    for (let i = 0; i < 3; i++) await reads.read([name], []);
    expect(pool.statements()).toBe(3);
  });
});

describe("no racing fill: a read that read MySQL before a write never fills after it", () => {
  test("an admin's correction, while a fill is held between its MySQL read and its Redis write", async () => {
    const name = uniqueName("Race correction");
    await add(name, 50, 12.49);
    const r = reader();
    const { held, release } = r.pool.hold(/FROM items WHERE name_key IN/);
    const slow = r.item(name); // misses, reads 12.49, is held
    await held;
    expect(await setPrice(name, 99.99)).toBe("cleared"); // lands, and clears, while the fill waits
    release();
    expect((await slow)?.item.price).toBe(12.49); // concurrent with the write: may see the old value
    expect(await entry(name)).toBeNull(); // but did not fill it
    expect((await r.item(name))?.item.price).toBe(99.99);
  });

  test("a purchase, while a fill is held", async () => {
    const name = uniqueName("Race purchase");
    await add(name, 50);
    const r = reader();
    const { held, release } = r.pool.hold(/FROM items WHERE name_key IN/);
    const slow = r.item(name);
    await held;
    await purchase(name, 3);
    release();
    expect((await slow)?.item.quantity).toBe(50);
    expect(await entry(name)).toBeNull();
    expect((await r.item(name))?.item.quantity).toBe(47);
  });

  test("a writer cut off from Redis: the relay's clear, while a fill is held", async () => {
    const name = uniqueName("Race relayed");
    await add(name, 50, 12.49);
    const writer = createAdminApi({ db: adminDb, cache: cutOff(), token, log: quiet });
    const r = reader();
    const { held, release } = r.pool.hold(/FROM items WHERE name_key IN/);
    const slow = r.item(name);
    await held;
    expect(await setPrice(name, 42.5, writer)).toBe("relayed");
    release();
    await slow;
    expect((await r.item(name))?.item.price).toBe(42.5);
  });

  test("a page: an insert while the page's fill is held", async () => {
    const tag = uniqueName("Race page").replaceAll(" ", "");
    await add(`${tag} a`);
    const r = reader();
    const { held, release } = r.pool.hold(/SELECT name_key FROM items/);
    const slow = r.page(tag);
    await held;
    await add(`${tag} b`); // raises the list's floor
    release();
    expect((await slow).page.total).toBe(1);
    const now = await r.page(tag);
    expect(now.page.items.map((i) => i.name)).toEqual([`${tag} a`, `${tag} b`]);
    // And the same for a delete.
    const second = r.pool.hold(/SELECT name_key FROM items/);
    await redis.del(`catalog:list:24:1:${encodeURIComponent(nameKey(tag))}`);
    const slow2 = r.page(tag);
    await second.held;
    expect((await call(admin, "DELETE", `/items/${encodeURIComponent(`${tag} a`)}`)).status).toBe(200);
    second.release();
    await slow2;
    expect((await r.page(tag)).page.items.map((i) => i.name)).toEqual([`${tag} b`]);
  });
});

describe("a writer cut off from Redis", () => {
  test("admin-api's answer waits for the relay's bound and says so; the relay cleared the entry in time; every web server shows the write", async () => {
    const name = uniqueName("Cut off");
    await add(name, 50, 12.49);
    const r = reader();
    await r.item(name);
    expect(await entry(name)).toContain("12.49"); // cached
    const writer = createAdminApi({ db: adminDb, cache: cutOff(), token, log: quiet });

    // Watch the entry from the moment the write is sent until the relay has cleared it.
    let clearedAt = 0;
    let watching = true;
    const t0 = performance.now();
    const watch = (async () => {
      while (watching && !clearedAt) {
        if (!(await entry(name))?.includes("12.49")) clearedAt = performance.now() - t0;
        else await Bun.sleep(2);
      }
    })();
    const res = await call(writer, "PATCH", `/items/${encodeURIComponent(name)}`, { price: 77.5 });
    const answeredMs = performance.now() - t0;
    watching = false;
    await watch;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { cache: string } }).data.cache).toBe("relayed");
    expect(answeredMs).toBeGreaterThanOrEqual(RELAY_BOUND_MS);
    expect(clearedAt).toBeGreaterThan(0);
    expect(clearedAt).toBeLessThanOrEqual(answeredMs);
    expect(clearedAt).toBeLessThanOrEqual(250);
    // Brought up to the write in place by the relay, from the outbox row: still a hit.
    expect(await entry(name)).toContain('"price":77.5');
    record({
      case: "admin-api cut off from Redis",
      updated_by_relay_ms: Math.round(clearedAt),
      answered_ms: Math.round(answeredMs),
    });
    for (const base of [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")]) {
      const seen = await fetch(`${base}/products/${encodeURIComponent(name)}`);
      expect(((await seen.json()) as { data: { price: number } }).data.price).toBe(77.5);
    }
  });
});

/** The api's counts (/healthz): its relay's and its reads'. */
async function apiCounts() {
  const res = await fetch(`${env("API_URL")}/healthz`);
  return ((await res.json()) as {
    data: { relay: { dropped: number; updated: number }; catalog: { untrusted: number } };
  }).data;
}

describe("the relay away", () => {
  test("no freshness mark: reads go to MySQL and are never stale; back, every old entry is dropped", async () => {
    const name = uniqueName("Relay away");
    await add(name, 50, 12.49);
    const r = reader();
    await r.item(name);
    expect(await entry(name)).toContain("12.49");
    await stack().stop("api"); // the relay with it
    try {
      await eventually(async () => (await redis.exists("catalog:fresh")) === 0, 2000, 20);
      const before = r.pool.statements();
      // A writer that cannot clear, and a relay that cannot apply: Redis keeps 12.49.
      const writer = createAdminApi({ db: adminDb, cache: cutOff(), token, log: quiet });
      expect(await setPrice(name, 55.25, writer)).toBe("relayed");
      expect(await entry(name)).toContain("12.49");
      for (let i = 0; i < 3; i++) expect((await r.item(name))?.item.price).toBe(55.25);
      expect(r.pool.statements() - before).toBe(3); // every read from MySQL
      expect(r.reads.stats().untrusted).toBeGreaterThanOrEqual(3);
      record({ case: "relay away", reads_from_mysql: 3, old_value_in_redis: true, stale_reads: 0 });
    } finally {
      await restore("api");
    }
    // Back: the relay found its mark lapsed and dropped every entry (a new generation).
    await eventually(async () => (await apiCounts()).relay.dropped >= 1, 5000, 20);
    expect((await r.item(name))?.item.price).toBe(55.25);
    expect((await productVia(env("STORE_URL"), name)).body).toMatchObject({ data: { price: 55.25 } });
  });
});

/** 16 readers of these names through every web server until stopped, counting what failed. */
function readLoad(names: string[]) {
  let stop = false;
  const failures: string[] = [];
  let reads = 0;
  const bases = [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")];
  const running = Promise.all(Array.from({ length: 16 }, async (_, i) => {
    while (!stop) {
      const path = i % 4 === 0 ? "/" : `/products/${encodeURIComponent(names[i % names.length]!)}`;
      const res = await fetch(`${bases[i % 3]}${path}`).catch((e) => ({ status: String(e) }) as const);
      if ("arrayBuffer" in res) await res.arrayBuffer();
      if (res.status !== 200) failures.push(`${res.status} ${path}`);
      reads++;
    }
  }));
  return async () => {
    stop = true;
    await running;
    return { reads, failures };
  };
}

describe("Redis flushed or killed under load", () => {
  test("FLUSHALL: no read fails; the relay drops the catalogue and renews its mark; no old value survives", async () => {
    const name = uniqueName("Flushed");
    await add(name, 50, 12.49);
    const stopLoad = readLoad([name, "Tux", "Fox"]);
    const dropped = (await apiCounts()).relay.dropped;
    try {
      await Bun.sleep(300);
      await redis.flushall();
      await Bun.sleep(300);
      expect(await setPrice(name, 31.5)).toBe("cleared");
      await Bun.sleep(300);
    } finally {
      const { reads, failures } = await stopLoad();
      record({ case: "FLUSHALL under load", reads, failures: failures.length });
      expect(failures.slice(0, 5)).toEqual([]);
      expect(reads).toBeGreaterThan(100);
    }
    expect((await apiCounts()).relay.dropped).toBeGreaterThan(dropped);
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
      expect((await productVia(base, name)).body).toMatchObject({ data: { price: 31.5 } });
    }
  });

  test("kill -9 of Redis, a write while it is away, Redis back empty: no read fails, none shows the old value", async () => {
    const name = uniqueName("Killed");
    await add(name, 50, 12.49);
    await reader().item(name);
    const stopLoad = readLoad([name, "Tux"]);
    try {
      await Bun.sleep(300);
      stack().kill("redis", "SIGKILL");
      await stack().exited("redis");
      const t0 = performance.now();
      expect(await setPrice(name, 64)).toBe("relayed"); // nothing to clear it in: waited out the bound
      expect(since(t0)).toBeGreaterThanOrEqual(RELAY_BOUND_MS);
      for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
        expect((await productVia(base, name)).body).toMatchObject({ data: { price: 64 } });
      }
      await restore("redis");
      await restore("cache");
      await eventually(async () => (await redis.exists("catalog:fresh")) === 1, 5000, 20);
      await Bun.sleep(300);
    } finally {
      await restore("redis");
      const { reads, failures } = await stopLoad();
      record({ case: "kill -9 Redis under load", reads, failures: failures.length });
      expect(failures.slice(0, 5)).toEqual([]);
    }
    for (const base of [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")]) {
      expect((await productVia(base, name)).body).toMatchObject({ data: { price: 64 } });
    }
  });
});
