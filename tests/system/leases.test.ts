// Web's memory under writes (docs/internals.md, "Web's memory: leases"): the web
// servers answer the catalogue from memory inside grants, and no read that starts
// after a write was acknowledged returns the value from before it — while a web server
// is paused across writes, while the change stream is cut (the api killed and started
// again), while a web server joins, and while Redis restarts. Each case runs buyers,
// readers on both web servers and the proxy, and one price correction, then checks:
// no stale read, every acknowledged order in the database, and memory really served.
import { afterAll, expect, test } from "bun:test";
import { uniqueName } from "../../testutil/src/test-stack.ts";
import { adminApi } from "./http.ts";
import {
  createItem,
  dbQuantity,
  record,
  staleReadsOfBought,
  type TimedPurchase,
  type TimedRead,
} from "./helpers.ts";
import { env, stack } from "./stack.ts";

const P0 = 1_000_000;

type Health = { from_memory?: number; lease?: { valid?: boolean } };
const health = async (base: string): Promise<Health> =>
  ((await (await fetch(`${base}/healthz`)).json()) as { data: Health }).data;
const fromMemory = async (base: string) => (await health(base)).from_memory ?? 0;

/** Until `check` holds, or fails after `ms`. */
async function until(check: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(100);
  }
}

type Run = {
  reads: TimedRead[];
  purchases: TimedPurchase[];
  /** Purchases answered neither 200 nor 503 (an outcome not known): each looked up after. */
  unknown: string[];
  readFailures: number;
  price: { acked: number; value: number } | undefined;
  /** When each acknowledged purchase was sent. */
  sent: Map<number, number>;
};

/**
 * Buyers (3), readers (on web-1, web-2 and the proxy, 2 each) and one price
 * correction at `priceAtMs`, for `ms`, while `disrupt` does its part. Reads through a
 * base only once `readable(base)` says so (a web server not yet started).
 */
async function underWrites(
  item: string,
  { ms, priceAtMs, disrupt, readable = () => true, buyVia = env("STORE_URL") }: {
    ms: number;
    /** Where the buyers buy (the proxy, or one web server: not the one paused). */
    buyVia?: string;
    priceAtMs: number;
    disrupt: (t0: number) => Promise<void>;
    readable?: (base: string) => boolean;
  },
): Promise<Run> {
  const bases = [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")];
  const run: Run = {
    reads: [],
    purchases: [],
    unknown: [],
    readFailures: 0,
    price: undefined,
    sent: new Map(),
  };
  const t0 = performance.now();
  const running = () => performance.now() - t0 < ms;
  const buyer = async () => {
    while (running()) {
      const start = performance.now();
      const res = await fetch(`${buyVia}/orders`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ name: item, quantity: 1 }),
      }).catch(() => undefined);
      const acked = performance.now();
      if (res?.status === 200) {
        const { data } = (await res.json()) as { data: { order_number: number } };
        run.purchases.push({ order: data.order_number, quantity: 1, acked });
        run.sent.set(data.order_number, start);
      } else if (res?.status === 503) await Bun.sleep(50); // not placed (api away)
      else {
        run.unknown.push(`${res?.status}: ${await res?.text()}`);
        await Bun.sleep(50);
      }
    }
  };
  const reader = async (base: string) => {
    while (running()) {
      if (!readable(base)) {
        await Bun.sleep(20);
        continue;
      }
      const start = performance.now();
      const res = await fetch(`${base}/products/${encodeURIComponent(item)}`).catch(() => undefined);
      if (res?.status !== 200) {
        run.readFailures++;
        await res?.body?.cancel();
        await Bun.sleep(20);
        continue;
      }
      const { data } = (await res.json()) as { data: { quantity: number; price: number } };
      run.reads.push({ base, start, value: data.quantity, price: data.price });
    }
  };
  const corrector = async () => {
    await Bun.sleep(priceAtMs);
    const res = await adminApi("PATCH", `/items/${encodeURIComponent(item)}`, { price: 7.25 });
    expect(res.status).toBe(200);
    run.price = { acked: performance.now(), value: 7.25 };
  };
  await Promise.all([
    buyer(),
    buyer(),
    buyer(),
    ...bases.flatMap((b) => [reader(b), reader(b)]),
    corrector(),
    disrupt(t0),
  ]);
  return run;
}

/** The slowest purchase under way at any moment of [from, to] (ms, performance.now()). */
const slowestDuring = (run: Run, [from, to]: number[]) =>
  Math.round(
    Math.max(
      ...run.purchases.filter((p) => p.acked > from! && run.sent.get(p.order)! < to!).map((p) =>
        p.acked - run.sent.get(p.order)!
      ),
    ),
  );

/** What every case checks: no stale read of the quantity or the price, and the orders all there. */
async function expectTruthful(item: string, run: Run) {
  const stale = staleReadsOfBought(run.reads, run.purchases, P0);
  expect(stale.slice(0, 5)).toEqual([]);
  const stalePrice = run.reads.filter((r) =>
    run.price && r.start > run.price.acked && r.price !== run.price.value
  );
  expect(stalePrice.slice(0, 5)).toEqual([]);
  // Every acknowledged order is in the database, and the stock says exactly how many were placed.
  const rows = (await stack().sql(`SELECT COUNT(*) FROM bazaar.orders WHERE item_name = '${item}'`)).trim()
    .split(
      "\n",
    );
  const placed = Number(rows.at(-1));
  expect(placed).toBeGreaterThanOrEqual(run.purchases.length);
  expect(placed - run.purchases.length).toBeLessThanOrEqual(run.unknown.length);
  expect(await dbQuantity(item)).toBe(P0 - placed);
  // The test means something: writes and reads both ran, through every base.
  expect(run.purchases.length).toBeGreaterThan(20);
  expect(run.price).toBeDefined();
  return stale.length + stalePrice.length;
}

afterAll(async () => {
  // Every service as the next file expects it.
  await stack().start();
});

test(
  "a web server paused (kill -STOP) across writes: the writes wait at most its grant, and no read is stale after",
  async () => {
    const item = uniqueName("Lease paused");
    await createItem(item, P0);
    const web1 = env("WEB1_URL");
    const servedBefore = await fromMemory(web1);
    let heldAtPause = false;
    let paused = [0, 0];
    const run = await underWrites(item, {
      ms: 6000,
      priceAtMs: 2500,
      // Through web-2: through the proxy, a purchase sent to web-1 would wait out the pause itself.
      buyVia: env("WEB2_URL"),
      disrupt: async () => {
        await Bun.sleep(1500);
        heldAtPause = (await health(web1)).lease?.valid === true;
        stack().kill("web-1", "SIGSTOP");
        paused = [performance.now(), Infinity];
        await Bun.sleep(1500);
        stack().kill("web-1", "SIGCONT");
        paused[1] = performance.now();
      },
    });
    const stale = await expectTruthful(item, run);
    // Memory served reads on web-1 (before the pause and after), not only the api.
    const served = (await fromMemory(web1)) - servedBefore;
    expect(served).toBeGreaterThan(0);
    record({
      case: "leases: web server paused 1.5 s across writes",
      purchases: run.purchases.length,
      reads: run.reads.length,
      web1_reads_from_memory: `${served} of ${
        run.reads.filter((r) => r.base === web1).length
      } direct (+ the proxy's)`,
      web1_held_a_grant_at_pause: heldAtPause,
      stale_reads: stale,
      // Any purchase under way while web-1 was paused: they wait for its grant to run out.
      slowest_purchase_during_pause_ms: slowestDuring(run, paused),
    });
  },
  60_000,
);

test(
  "a web server killed (kill -9) under writes: they wait at most its grant once, and no read is stale",
  async () => {
    const item = uniqueName("Lease killed");
    await createItem(item, P0);
    const web1 = env("WEB1_URL");
    let killed = [0, 0];
    const run = await underWrites(item, {
      ms: 5000,
      priceAtMs: 3000,
      buyVia: env("WEB2_URL"),
      // web-1's reads stop with it; those through the proxy go to web-2.
      readable: (base) => base !== web1 || killed[0] === 0,
      disrupt: async () => {
        await Bun.sleep(1500);
        stack().kill("web-1", "SIGKILL");
        killed = [performance.now(), performance.now() + 1000];
      },
    });
    await stack().start("web-1");
    const stale = await expectTruthful(item, run);
    record({
      case: "leases: web server killed under writes",
      purchases: run.purchases.length,
      reads: run.reads.length,
      stale_reads: stale,
      slowest_purchase_right_after_ms: slowestDuring(run, killed),
    });
  },
  60_000,
);

test(
  "the change stream cut (the api killed, then started): web servers fall back to asking, then serve memory again; no stale read",
  async () => {
    const item = uniqueName("Lease stream cut");
    await createItem(item, P0);
    const run = await underWrites(item, {
      ms: 7000,
      priceAtMs: 5000,
      disrupt: async () => {
        await Bun.sleep(1500);
        stack().kill("api", "SIGKILL");
        await stack().exited("api");
        await Bun.sleep(500);
        await stack().start("api");
      },
    });
    const stale = await expectTruthful(item, run);
    // Both web servers follow the new api's stream and serve from memory again.
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
      await until(async () => (await health(base)).lease?.valid === true);
      const served = await fromMemory(base);
      await fetch(`${base}/products/${encodeURIComponent(item)}`);
      await fetch(`${base}/products/${encodeURIComponent(item)}`);
      expect(await fromMemory(base)).toBeGreaterThan(served);
    }
    record({
      case: "leases: api killed and started under writes",
      purchases: run.purchases.length,
      reads: run.reads.length,
      failed_reads_while_api_away: run.readFailures,
      stale_reads: stale,
    });
  },
  60_000,
);

test(
  "a web server started while writes go on: it serves memory once granted, and never an old value",
  async () => {
    const item = uniqueName("Lease joiner");
    await createItem(item, P0);
    const web2 = env("WEB2_URL");
    await stack().stop("web-2");
    let joined = false;
    const run = await underWrites(item, {
      ms: 6000,
      priceAtMs: 3500,
      readable: (base) => base !== web2 || joined,
      disrupt: async () => {
        await Bun.sleep(1500);
        await stack().start("web-2");
        joined = true;
      },
    });
    const stale = await expectTruthful(item, run);
    expect(run.reads.filter((r) => r.base === web2).length).toBeGreaterThan(20);
    expect(await fromMemory(web2)).toBeGreaterThan(0);
    record({
      case: "leases: web server started under writes",
      purchases: run.purchases.length,
      reads_via_joiner: run.reads.filter((r) => r.base === web2).length,
      stale_reads: stale,
    });
  },
  60_000,
);

test(
  "Redis restarted under writes (the feed starts over): no stale read, and memory serves again after",
  async () => {
    const item = uniqueName("Lease redis");
    await createItem(item, P0);
    const run = await underWrites(item, {
      ms: 7000,
      priceAtMs: 2500,
      disrupt: async () => {
        await Bun.sleep(1500);
        await stack().restart("redis");
      },
    });
    const stale = await expectTruthful(item, run);
    const web1 = env("WEB1_URL");
    await until(async () => (await health(web1)).lease?.valid === true);
    record({
      case: "leases: Redis restarted under writes",
      purchases: run.purchases.length,
      reads: run.reads.length,
      stale_reads: stale,
    });
  },
  60_000,
);
