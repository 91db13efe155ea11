// runClient against the in-memory fake store: the client's own behaviour, not the
// real stack's (that end-to-end run is in tests/system).
import { afterEach, describe, expect, test } from "bun:test";
import { type FakeStore, type FakeStoreOptions, startFakeStore } from "@bazaar/testutil/fake-store.ts";
import { runClient } from "./run.ts";
import type { ClientInput } from "./options.ts";

let store: FakeStore | undefined;
afterEach(async () => {
  await store?.stop();
  store = undefined;
});

const open = (opts: FakeStoreOptions = {}) => (store = startFakeStore(opts));
const run = (input: ClientInput = {}) =>
  runClient({ url: store!.url, seed: 7, sessions: 4, iterations: 30, p: 0.5, quiet: true, ...input });
const errorBody = (code: number, message: string) =>
  Response.json({ error: { code, message } }, { status: code });

describe("a clean run", () => {
  test("queries, buys, checks every order and passes", async () => {
    open();
    const before = new Map([...store!.items.values()].map((i) => [i.name, i.quantity]));
    const r = await run();
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.requests.query.count).toBe(4 * 30);
    expect(r.total.error_count).toBe(0);
    expect(r.orders.placed).toBe(store!.orders.size);
    expect(r.orders.verified).toBe(r.orders.placed);
    expect(r.requests.lookup.outcomes.ok).toBe(r.orders.placed);
    expect(r.requests.buy.outcomes.ok).toBe(r.orders.placed);
    // What the report says was bought is exactly what left the shelves.
    for (const item of store!.items.values()) {
      expect(before.get(item.name)! - item.quantity).toBe(r.orders.quantity_by_product[item.name] ?? 0);
    }
    expect(r.requests.query.latency_ms.p50).toBeGreaterThan(0);
    expect(r.requests.query.latency_ms.max).toBeGreaterThanOrEqual(r.requests.query.latency_ms.p99!);
    expect(r.requests.query.throughput_per_s).toBeGreaterThan(0);
    // Nothing restocks the fake store: stock only went down.
    expect(r.restocks_seen).toEqual({ count: 0, by_product: {} });
  });

  test("order numbers from 0 (the lab's rule) are valid: order 0 is placed and verified", async () => {
    open();
    const r = await run({ sessions: 1, iterations: 5, p: 1 });
    expect(store!.orders.has(0)).toBe(true);
    expect(r.ok).toBe(true);
    expect(r.orders.verified).toBe(r.orders.placed);
  });

  test("counts unknown products (404 product not found) as an expected outcome", async () => {
    open();
    const r = await run({ p: 0 });
    expect(r.requests.query.outcomes.not_found).toBeGreaterThan(0);
    expect(r.requests.query.outcomes.ok + r.requests.query.outcomes.not_found).toBe(r.requests.query.count);
    expect(r.requests.buy.count).toBe(0);
    expect(r.ok).toBe(true);
  });

  test("counts 409 not enough stock as an expected outcome", async () => {
    let n = 0;
    open({
      intercept: (
        route,
      ) => (route === "order" && ++n % 2 === 0 ? errorBody(409, "not enough stock") : undefined),
    });
    const r = await run({ p: 1 });
    expect(r.requests.buy.outcomes.out_of_stock).toBe(Math.floor(r.requests.buy.count / 2));
    expect(r.requests.buy.error_count).toBe(0);
    expect(r.orders.placed).toBe(r.requests.buy.outcomes.ok);
    expect(r.ok).toBe(true);
  });

  test("under contention for a little stock, buys it all and never errs", async () => {
    open({ items: [{ name: "Tux", quantity: 3, price: 15.99 }, { name: "Fox", quantity: 2, price: 12.5 }] });
    const r = await run({ sessions: 8, iterations: 60, p: 1 });
    expect(r.ok).toBe(true);
    expect(r.orders.quantity_by_product).toEqual({ Fox: 2, Tux: 3 });
    expect([...store!.items.values()].map((i) => i.quantity)).toEqual([0, 0]);
  });

  test("a product gone between the look and the purchase (404 on buy) is expected", async () => {
    // The shelf shows Fox, but the store no longer sells it.
    open({
      items: [{ name: "Tux", quantity: 100, price: 15.99 }],
      intercept: (
        route,
        _req,
        url,
      ) => (route === "product" && url.pathname === "/products/Fox"
        ? Response.json({ data: { name: "Fox", price: 12.5, quantity: 5 } })
        : undefined),
    });
    const r = await run({ p: 1 });
    expect(r.requests.buy.outcomes.not_found).toBeGreaterThan(0);
    expect(r.ok).toBe(true);
  });
});

describe("sold out", () => {
  test("a shop emptied by the run is reported: which products, when, and the purchases not made", async () => {
    open({ items: [{ name: "Tux", quantity: 3, price: 15.99 }, { name: "Fox", quantity: 2, price: 12.5 }] });
    const r = await run({ sessions: 4, iterations: 40, p: 1 });
    expect(r.ok).toBe(true);
    expect(r.orders.placed).toBe(5);
    expect(r.sold_out.products).toEqual(["Fox", "Tux"]);
    expect(r.sold_out.products_read).toBe(2);
    expect(r.sold_out.skipped_purchases).toBeGreaterThan(0);
    // Every read of a known product that found no stock, with the coin saying buy (p = 1).
    const inStockReads = r.requests.buy.count;
    expect(r.sold_out.skipped_purchases).toBe(r.requests.query.outcomes.ok - inStockReads);
    expect(r.sold_out.all_sold_out_after_s).toBeGreaterThanOrEqual(0);
    expect(r.sold_out.all_sold_out_after_s).toBeLessThanOrEqual(r.elapsed_s);
  });

  test("a shop that never ran out says nothing of it", async () => {
    open();
    const r = await run({ p: 0.1 });
    expect(r.sold_out).toEqual({
      products: [],
      products_read: 10,
      skipped_purchases: 0,
      all_sold_out_after_s: null,
    });
  });
});

describe("restocks seen", () => {
  test("a product restocked while the client runs is reported, never more often than it happened", async () => {
    open({ items: [{ name: "Tux", quantity: 2, price: 15.99 }] });
    // The store's restocking, as admin-api does it: every item at 0 back to a level.
    let restocked = 0;
    const timer = setInterval(() => {
      const tux = store!.items.get("tux")!;
      if (tux.quantity === 0) (tux.quantity = 3), restocked++;
    }, 5);
    try {
      const r = await runClient({ url: store!.url, seed: 7, sessions: 2, duration: 0.5, p: 1, quiet: true });
      expect(r.ok).toBe(true);
      expect(restocked).toBeGreaterThan(0);
      expect(r.restocks_seen.count).toBeGreaterThan(0);
      expect(r.restocks_seen.count).toBeLessThanOrEqual(restocked);
      expect(Object.keys(r.restocks_seen.by_product)).toEqual(["Tux"]);
    } finally {
      clearInterval(timer);
    }
  });
});

describe("order check", () => {
  test("detects an order stored with another quantity, another product, or not at all", async () => {
    open({
      intercept: (route, _req, url) => {
        if (route !== "lookup") return undefined;
        const number = Number(url.pathname.split("/").pop());
        const order = store!.orders.get(number)!;
        if (number === 1) return Response.json({ data: { ...order, quantity: 2 } });
        if (number === 2) {
          return Response.json({ data: { ...order, name: order.name === "Tux" ? "Fox" : "Tux" } });
        }
        if (number === 3) return errorBody(404, "order not found");
        return undefined;
      },
    });
    const r = await run({ p: 1 });
    expect(r.ok).toBe(false);
    expect(r.orders.mismatched).toBe(3);
    expect(r.mismatches.map((m) => [m.number, m.reason])).toEqual([
      [1, "different quantity"],
      [2, "different product"],
      [3, "order not found"],
    ]);
    expect(r.mismatches[0]!.expected).toEqual({ name: store!.orders.get(1)!.name, quantity: 1 });
    expect(r.mismatches[0]!.actual).toMatchObject({ number: 1, quantity: 2 });
    expect(r.orders.verified).toBe(r.orders.placed - 3);
    // A mismatch is not a transport error: the requests themselves were fine.
    expect(r.total.error_count).toBe(0);
    expect(r.failures).toEqual(["3 order mismatches"]);
  });

  test("detects one order number handed out twice", async () => {
    let n = 0;
    open({
      intercept: (
        route,
      ) => (route === "order" && ++n <= 2 ? Response.json({ data: { order_number: 777 } }) : undefined),
    });
    const r = await run({ p: 1 });
    expect(r.mismatches.map((m) => m.reason)).toContain("order number given twice");
    expect(r.ok).toBe(false);
  });
});

describe("unexpected errors", () => {
  test("a 500 is an error counted by its status, and fails the run", async () => {
    let n = 0;
    open({
      intercept: (
        route,
      ) => (route === "product" && ++n % 10 === 0 ? errorBody(500, "internal error") : undefined),
    });
    const r = await run();
    expect(r.requests.query.errors).toEqual({ "status 500": 12 });
    expect(r.requests.query.count).toBe(120);
    expect(r.error_samples["query status 500"]).toContain("internal error");
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(["12 unexpected errors"]);
  });

  test("bodies off the design's shape are 'bad shape' errors", async () => {
    const bad: Record<string, () => Response> = {
      Tux: () => Response.json({ data: { name: "Tux", price: 15.99, quantity: 100, colour: "black" } }), // extra field
      Fox: () => Response.json({ name: "Fox", price: 12.5, quantity: 100 }), // no envelope
      Python: () => Response.json({ data: { name: "Python", price: "9.99", quantity: 100 } }), // price as text
      Whale: () => Response.json({ data: { name: "Whale", price: 20, quantity: -1 } }), // negative stock
      Gopher: () => new Response("<html>oops</html>", { headers: { "content-type": "text/html" } }), // not JSON
      Unicorn: () => Response.json({ error: { message: "product not found" } }, { status: 404 }), // no code
      Kraken: () => Response.json({ error: { code: 400, message: "product not found" } }, { status: 404 }), // code ≠ status
    };
    open({
      intercept: (
        route,
        _req,
        url,
      ) => (route === "product" ? bad[decodeURIComponent(url.pathname.split("/").pop()!)]?.() : undefined),
    });
    const r = await run({ p: 0 });
    expect(Object.keys(r.requests.query.errors)).toEqual(["bad shape"]);
    expect(r.requests.query.outcomes.ok).toBeGreaterThan(0); // the other toys were fine
    expect(r.ok).toBe(false);
  });

  test("a 404 with another message, a wrong product and an unexpected status are errors", async () => {
    open({
      intercept: (route, _req, url) => {
        if (route !== "product") return undefined;
        const name = url.pathname.split("/").pop();
        if (name === "Yeti") return errorBody(404, "not found"); // e.g. a proxy's 404, not the API's
        if (name === "Duke") return Response.json({ data: { name: "Tux", price: 15.99, quantity: 1 } });
        if (name === "Ferris") {
          return Response.json({ data: { name: "Ferris", price: 14, quantity: 1 } }, { status: 201 });
        }
        return undefined;
      },
    });
    const r = await run({ p: 0 });
    expect(Object.keys(r.requests.query.errors).sort()).toEqual(["status 201", "status 404", "wrong data"]);
    expect(r.error_samples["query status 404"]).toContain('unexpected message "not found"');
  });

  test("a request slower than --timeout is a timeout", async () => {
    open({
      intercept: async (route) => (route === "product" ? (await Bun.sleep(300), undefined) : undefined),
    });
    const r = await run({ sessions: 1, iterations: 3, p: 1, timeout: 0.05 });
    expect(r.requests.query.errors).toEqual({ timeout: 3 });
    expect(r.requests.query.latency_ms.max).toBeNull(); // a timeout has no latency of its own
    expect(r.ok).toBe(false);
  });

  test("a store that is not there is ECONNREFUSED", async () => {
    const port = startFakeStore();
    const url = port.url;
    await port.stop();
    const r = await runClient({ url, sessions: 2, iterations: 3, quiet: true });
    expect(r.requests.query.errors).toEqual({ ECONNREFUSED: 6 });
    expect(r.ok).toBe(false);
  });
});

describe("limits", () => {
  test("--duration stops new iterations but still checks every order", async () => {
    open({ intercept: async () => (await Bun.sleep(5), undefined) });
    const started = performance.now();
    const r = await run({ duration: 0.3, iterations: undefined, p: 1 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(r.iterations).toBeNull();
    expect(r.duration_limit_s).toBe(0.3);
    expect(r.orders.placed).toBeGreaterThan(0);
    expect(r.orders.verified).toBe(r.orders.placed);
    expect(r.ok).toBe(true);
  });

  test("an abort signal stops the run early, marked interrupted", async () => {
    open({ intercept: async () => (await Bun.sleep(5), undefined) });
    const r = await runClient({ url: store!.url, sessions: 2, iterations: 1_000_000, quiet: true }, {
      signal: AbortSignal.timeout(200),
    });
    expect(r.interrupted).toBe(true);
    expect(r.requests.query.count).toBeLessThan(1000);
    expect(r.orders.verified).toBe(r.orders.placed);
  });
});

describe("the command line", () => {
  const cli = async (...args: string[]) => {
    const p = Bun.spawn([
      "bun",
      `${import.meta.dir}/main.ts`,
      "--url",
      store!.url,
      "--iterations",
      "10",
      "--sessions",
      "2",
      "--seed",
      "3",
      ...args,
    ], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    return { stdout, stderr, code };
  };

  test("exits 0 and prints the text report when all is well", async () => {
    open();
    const r = await cli();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("result: OK");
  });

  test("exits 1 on an unexpected error, and --json prints the report as JSON", async () => {
    open({
      intercept: (
        route,
      ) => (route === "product" ? errorBody(503, "the catalogue is temporarily unavailable") : undefined),
    });
    const r = await cli("--json", "--quiet");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.requests.query.errors).toEqual({ "status 503": 20 });
  });

  test("exits 1 on an order mismatch", async () => {
    open({ intercept: (route) => (route === "lookup" ? errorBody(404, "order not found") : undefined) });
    const r = await cli("--p", "1");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("order not found");
    expect(r.stdout).toContain("result: FAILED");
  });
});
