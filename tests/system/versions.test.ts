// Reads come from Redis, revalidated by web's coalesced checks (docs/internals.md, The
// cache): proved under load, with the coalescing active on every web server. After a
// write is acknowledged, reads through every web server at once see it — for an admin
// write and a purchase, for writes that land while checks are in flight (under this
// load one always is), and with the writer cut off from the cache while the readers
// are not (the relay clears for it), and the readers cut off while the writer is not.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp as createAdminApi } from "../../admin-api/src/app.ts";
import { createCache } from "../../lib/src/data/cache.ts";
import { createDb } from "../../lib/src/data/db.ts";
import { cacheConfig, dbConfig, uniqueName } from "../../testutil/src/test-stack.ts";
import { createItem, record } from "./helpers.ts";
import { adminApi, shelf } from "./http.ts";
import { env, stack } from "./stack.ts";

setDefaultTimeout(90_000);

const bases = () => [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")];
type Seen = { price?: number; quantity?: number; status: number };

/** One product read, as JSON. */
async function product(base: string, name: string): Promise<Seen> {
  const res = await fetch(`${base}/products/${encodeURIComponent(name)}`);
  const body = (await res.json()) as { data?: { price: number; quantity: number } };
  return { status: res.status, price: body.data?.price, quantity: body.data?.quantity };
}

/** The item's card on the storefront (found by a search for its name). */
async function card(base: string, name: string) {
  const res = await fetch(`${base}/?q=${encodeURIComponent(name)}`, { headers: { Accept: "text/html" } });
  return shelf(await res.text()).find((i) => i.name === name);
}

/** 32 readers of this item and of the storefront through every web server, until stopped. */
function load(name: string) {
  let stop = false;
  let reads = 0;
  const failures: string[] = [];
  const reader = async (i: number) => {
    while (!stop) {
      const base = bases()[i % 3]!;
      const res = await fetch(i % 2 ? `${base}/` : `${base}/products/${encodeURIComponent(name)}`);
      await res.arrayBuffer();
      reads++;
      if (res.status !== 200) failures.push(`${res.status} ${base}`);
    }
  };
  const running = Promise.all(Array.from({ length: 32 }, (_, i) => reader(i)));
  return {
    async stop() {
      stop = true;
      await running;
      return { reads, failures };
    },
  };
}

/** Right after an acknowledgement: 8 reads through each web server at once, item and page. */
async function everyoneSees(name: string, want: { price?: number; quantity?: number }) {
  const reads = await Promise.all(
    bases().flatMap((b) => Array.from({ length: 8 }, () => product(b, name))),
  );
  for (const r of reads) expect(r).toMatchObject({ status: 200, ...want });
  const cards = await Promise.all(bases().map((b) => card(b, name)));
  if (want.price !== undefined) { for (const c of cards) expect(c?.price).toContain(want.price.toFixed(2)); }
}

const setPrice = async (name: string, price: number) => {
  const r = await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, { price });
  expect(r.status).toBe(200);
};

/** Healthz counts of the coalesced checks, summed over the web servers. */
async function webChecks() {
  let requests = 0;
  let checks = 0;
  for (const b of [env("WEB1_URL"), env("WEB2_URL")]) {
    const { data } = (await (await fetch(`${b}/healthz`)).json()) as {
      data: { revalidation: { requests: number; checks: number } };
    };
    requests += data.revalidation.requests;
    checks += data.revalidation.checks;
  }
  return { requests, checks };
}

describe("under load, with the checks coalesced", () => {
  test("20 admin writes and 20 purchases in a row: after each, every web server shows it at once", async () => {
    const name = uniqueName("Versions load");
    await createItem(name, 1000, 10);
    const before = await webChecks();
    const traffic = load(name);
    try {
      await Bun.sleep(300);
      for (let i = 1; i <= 20; i++) {
        const price = 10 + i / 100;
        await setPrice(name, price);
        await everyoneSees(name, { price });
        const bought = await fetch(`${env("STORE_URL")}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name, quantity: 1 }),
        });
        expect(bought.status).toBe(200);
        await everyoneSees(name, { quantity: 1000 - i });
      }
    } finally {
      const { reads, failures } = await traffic.stop();
      expect(failures.slice(0, 5)).toEqual([]);
      const after = await webChecks();
      const requests = after.requests - before.requests;
      const checks = after.checks - before.checks;
      record({
        case: "versions under load",
        reads,
        requests,
        checks,
        per_check: (requests / checks).toFixed(1),
      });
      // The coalescing really was active: many requests per check.
      expect(requests / checks).toBeGreaterThan(2);
    }
  });
});

describe("partitions: one side cut off from the cache", () => {
  const closed = { ...cacheConfig(), UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", CACHE_TIMEOUT_MS: 200 };
  const adminDb = createDb(dbConfig("admin"));
  afterAll(() => adminDb.close());

  test("the writer cut off, the readers not: an acknowledged write is what every web server shows at once", async () => {
    const name = uniqueName("Writer partitioned");
    await createItem(name, 50, 12.49);
    // Every reader has the old value, in the cache and in every web server's copy.
    await everyoneSees(name, { price: 12.49 });
    const writer = createAdminApi({
      db: adminDb,
      cache: createCache(closed, { log: () => {} }),
      token: "partition-token",
      log: () => {},
    });
    const traffic = load(name);
    try {
      for (const price of [99.99, 42.5, 7.25]) {
        const res = await writer.request(`/items/${encodeURIComponent(name)}`, {
          method: "PATCH",
          headers: { Authorization: "Bearer partition-token", "Content-Type": "application/json" },
          body: JSON.stringify({ price }),
        });
        expect(res.status).toBe(200);
        // Its own clear failed: it waited for the relay's, and says so.
        expect(((await res.json()) as { data: { cache: string } }).data.cache).toBe("relayed");
        await everyoneSees(name, { price });
      }
    } finally {
      const { failures } = await traffic.stop();
      expect(failures.slice(0, 5)).toEqual([]);
    }
  });

  test("the readers cut off (api with no cache), the writer not: the same", async () => {
    const name = uniqueName("Readers partitioned");
    await createItem(name, 50, 12.49);
    await everyoneSees(name, { price: 12.49 });
    stack().setEnv("api", { UPSTASH_REDIS_REST_URL: closed.UPSTASH_REDIS_REST_URL });
    await stack().restart("api");
    const traffic = load(name);
    try {
      for (const price of [99.99, 42.5, 7.25]) {
        await setPrice(name, price);
        await everyoneSees(name, { price });
      }
    } finally {
      const { failures } = await traffic.stop();
      stack().setEnv("api", { UPSTASH_REDIS_REST_URL: env("CACHE_URL") });
      await stack().restart("api");
      // Reads right after an api restart may meet web's pooled connections to the old one.
      expect(failures.filter((f) => !f.startsWith("503")).slice(0, 5)).toEqual([]);
    }
    // Back on the cache: still the last write.
    await everyoneSees(name, { price: 7.25 });
  });
});
