import { describe, expect, test } from "bun:test";
import { Progress } from "./progress.ts";
import { buildReport, formatJson, formatText, type KindReport, type Report } from "./report.ts";
import { resolveOptions } from "./options.ts";
import { newRunStats } from "./stats.ts";

const kind = (over: Partial<KindReport> = {}): KindReport => ({
  count: 0,
  outcomes: { ok: 0, not_found: 0, out_of_stock: 0 },
  errors: {},
  error_count: 0,
  latency_ms: { p50: null, p90: null, p99: null, max: null },
  throughput_per_s: 0,
  ...over,
});

const passing: Report = {
  ok: true,
  failures: [],
  url: "http://127.0.0.1:8080",
  seed: 42,
  sessions: 8,
  iterations: 50,
  p: 0.3,
  duration_limit_s: null,
  timeout_s: 10,
  started_at: "2026-01-01T00:00:00.000Z",
  elapsed_s: 1.234,
  interrupted: false,
  requests: {
    query: kind({
      count: 400,
      outcomes: { ok: 309, not_found: 91, out_of_stock: 0 },
      latency_ms: { p50: 1.2, p90: 2.5, p99: 7.75, max: 12.5 },
      throughput_per_s: 400.1,
    }),
    buy: kind({
      count: 92,
      outcomes: { ok: 90, not_found: 0, out_of_stock: 2 },
      latency_ms: { p50: 3, p90: 4, p99: 9, max: 9 },
      throughput_per_s: 80,
    }),
    lookup: kind({
      count: 90,
      outcomes: { ok: 90, not_found: 0, out_of_stock: 0 },
      latency_ms: { p50: 1, p90: 1.5, p99: 2, max: 2 },
      throughput_per_s: 900,
    }),
  },
  total: { count: 582, error_count: 0, throughput_per_s: 471.6 },
  orders: {
    placed: 90,
    verified: 90,
    unverified: 0,
    mismatched: 0,
    quantity_by_product: { Fox: 40, Tux: 50 },
  },
  mismatches: [],
  restocks_seen: { count: 0, by_product: {} },
  sold_out: { products: [], products_read: 10, skipped_purchases: 0, all_sold_out_after_s: null },
  error_samples: {},
};

describe("text report", () => {
  test("is a table per request type, the order check and the result", () => {
    expect(formatText(passing)).toBe(
      [
        "Bazaar load client: http://127.0.0.1:8080",
        "8 sessions × 50 iterations, p 0.3, seed 42, timeout 10 s",
        "ran 1.23 s from 2026-01-01T00:00:00.000Z",
        "",
        "request  count   ok  not found  out of stock  errors  p50 ms  p90 ms  p99 ms  max ms  req/s",
        "query      400  309         91             0       0    1.20    2.50    7.75   12.50  400.1",
        "buy         92   90          0             2       0    3.00    4.00    9.00    9.00   80.0",
        "lookup      90   90          0             0       0    1.00    1.50    2.00    2.00  900.0",
        "total      582                                     0                                  471.6",
        "",
        "orders: 90 placed, 90 verified, 0 mismatched",
        "bought: Fox 40, Tux 50",
        "errors: none",
        "",
        "result: OK",
      ].join("\n"),
    );
  });

  test("lists errors by kind with an example, mismatches, and why the run failed", () => {
    const failing: Report = {
      ...passing,
      ok: false,
      failures: ["3 unexpected errors", "1 order mismatch"],
      iterations: null,
      duration_limit_s: 30,
      interrupted: true,
      requests: {
        ...passing.requests,
        query: kind({ ...passing.requests.query, errors: { "status 503": 2, timeout: 1 }, error_count: 3 }),
      },
      total: { ...passing.total, error_count: 3 },
      orders: { ...passing.orders, verified: 88, unverified: 1, mismatched: 1 },
      mismatches: [{
        number: 17,
        reason: "different quantity",
        expected: { name: "Tux", quantity: 1 },
        actual: { number: 17, name: "Tux", quantity: 2 },
      }],
      error_samples: {
        "query status 503": "GET /products/Tux: unavailable",
        "query timeout": "GET /products/Fox: The operation timed out.",
      },
    };
    const text = formatText(failing);
    expect(text).toContain("8 sessions × unlimited iterations, p 0.3, seed 42, timeout 10 s, limit 30 s");
    expect(text).toContain("(interrupted)");
    expect(text).toContain("orders: 90 placed, 88 verified, 1 mismatched, 1 not checked (lookup failed)");
    expect(text).toContain(
      [
        "errors:",
        "  query  status 503  2  e.g. GET /products/Tux: unavailable",
        "  query  timeout     1  e.g. GET /products/Fox: The operation timed out.",
      ].join("\n"),
    );
    expect(text).toContain("mismatches:\n  order 17: different quantity: placed Tux × 1, got Tux × 2 (#17)");
    expect(text.endsWith("result: FAILED (3 unexpected errors, 1 order mismatch)")).toBe(true);
  });

  test("names the restocks seen, by product, only when there were any", () => {
    expect(formatText(passing)).not.toContain("restocks seen");
    const text = formatText({ ...passing, restocks_seen: { count: 3, by_product: { Fox: 1, Tux: 2 } } });
    expect(text).toContain("bought: Fox 40, Tux 50\nrestocks seen: 3 (Fox 1, Tux 2)\nerrors: none");
  });

  test("says the shop sold out, when it cost purchases, and what restocks it", () => {
    expect(formatText(passing)).not.toContain("sold out");
    const soldOut = {
      products: ["Fox", "Tux"],
      products_read: 2,
      skipped_purchases: 3120,
      all_sold_out_after_s: 4.1,
    };
    const text = formatText({ ...passing, sold_out: soldOut });
    expect(text).toContain(
      [
        "bought: Fox 40, Tux 50",
        "sold out: 2 of 2 products at 0 at the end (Fox, Tux); all 2 products read were at 0 4.1 s into the run; 3120 purchases not made for want of stock",
        '  nothing restocked it: restock with RESTOCK_EVERY_S and RESTOCK_TO (README, "For the toy-store lab") or in /admin',
        "errors: none",
      ].join("\n"),
    );
    // With restocking on, but too little of it.
    const restocked = formatText({
      ...passing,
      restocks_seen: { count: 2, by_product: { Tux: 2 } },
      sold_out: soldOut,
    });
    expect(restocked).toContain(
      '  the restocks seen did not keep up with this load: a shorter RESTOCK_EVERY_S or a higher RESTOCK_TO (README, "For the toy-store lab")',
    );
    // Selling out is the store working, not an error.
    expect(text.endsWith("result: OK")).toBe(true);
  });

  test("lists at most 20 mismatches and points at --json for the rest", () => {
    const mismatches = Array.from(
      { length: 25 },
      (_, i) => ({
        number: i + 1,
        reason: "order not found",
        expected: { name: "Tux", quantity: 1 },
        actual: null,
      }),
    );
    const text = formatText({ ...passing, ok: false, mismatches });
    expect(text.match(/^ {2}order \d+:/gm)).toHaveLength(20);
    expect(text).toContain("… and 5 more (see --json)");
  });
});

describe("JSON report", () => {
  test("is the report object itself", () => {
    expect(JSON.parse(formatJson(passing))).toEqual(passing);
  });
});

describe("building the report", () => {
  test("fails on errors or mismatches, sums totals and units bought per product", () => {
    const stats = newRunStats();
    stats.query.outcome("ok");
    stats.query.error("status 500", "GET /products/Tux: internal error");
    stats.query.span(0, 500);
    const options = resolveOptions({ seed: 1, duration: 2 });
    const orders = [
      { number: 1, name: "Tux", quantity: 1, session: 0 },
      { number: 2, name: "Fox", quantity: 1, session: 1 },
      { number: 3, name: "Tux", quantity: 1, session: 0 },
    ];
    const r = buildReport({
      options,
      stats,
      orders,
      verification: { verified: 3, unverified: 0, mismatches: [] },
      startedAt: new Date(0),
      elapsedMs: 1000,
      interrupted: false,
    });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(["1 unexpected error"]);
    expect(r.iterations).toBeNull();
    expect(r.total).toEqual({ count: 2, error_count: 1, throughput_per_s: 2 });
    expect(r.requests.query.throughput_per_s).toBe(4);
    expect(r.orders.quantity_by_product).toEqual({ Fox: 1, Tux: 2 });
    expect(Object.keys(r.orders.quantity_by_product)).toEqual(["Fox", "Tux"]);
    expect(r.error_samples).toEqual({ "query status 500": "GET /products/Tux: internal error" });
    expect(r.restocks_seen).toEqual({ count: 0, by_product: {} });
  });
});

describe("progress", () => {
  const source = () => {
    const stats = newRunStats();
    stats.query.outcome("ok");
    stats.buy.error("timeout", "x");
    return { stats, orders: () => 0, phase: () => "running" };
  };

  test("redraws one line on a terminal and clears it at the end", async () => {
    const written: string[] = [];
    const p = new Progress(source(), { isTTY: true, write: (s: string) => written.push(s) }, 10);
    await Bun.sleep(35);
    p.stop();
    expect(written.length).toBeGreaterThanOrEqual(2);
    // deno-lint-ignore no-control-regex -- the escape code is what is checked
    expect(written[0]).toMatch(/^\r\x1b\[K\d+\.\ds running: 2 requests, [\d.]+ req\/s, 1 errors, 0 orders$/);
    expect(written.at(-1)).toBe("\r\x1b[K");
  });

  test("writes whole lines, and no escape codes, elsewhere", async () => {
    const written: string[] = [];
    const p = new Progress(source(), { isTTY: false, write: (s: string) => written.push(s) }, 10);
    await Bun.sleep(25);
    p.stop();
    expect(written.length).toBeGreaterThanOrEqual(1);
    // deno-lint-ignore no-control-regex -- the escape code is what is checked
    for (const line of written) expect(line).toMatch(/^[^\x1b\r]*\n$/);
  });

  test("says once that the shop is sold out, and counts what is, in the line", async () => {
    const written: string[] = [];
    let stock = { soldOut: 3, read: 10, skipped: 5 };
    const p = new Progress(
      { ...source(), soldOut: () => stock },
      { isTTY: false, write: (s: string) => written.push(s) },
      10,
    );
    await Bun.sleep(35);
    expect(written.at(-1)).toMatch(/, 0 orders, sold out 3\/10\n$/);
    stock = { soldOut: 10, read: 10, skipped: 40 };
    await Bun.sleep(45);
    p.stop();
    const said = written.filter((l) => l.includes("the shop is sold out"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^\d+\.\ds the shop is sold out \(all 10 products read are at 0\): no purchase from now on; restock with RESTOCK_EVERY_S and RESTOCK_TO \(README, "For the toy-store lab"\) or in \/admin\n$/,
    );
    expect(written.at(-1)).toMatch(/, sold out 10\/10 \(buying nothing\)\n$/);
  });

  test("writes nothing to a pipe in a short run (at most one line every 5 s)", async () => {
    const written: string[] = [];
    const p = new Progress(source(), { isTTY: false, write: (s: string) => written.push(s) });
    await Bun.sleep(30);
    p.stop();
    expect(written).toEqual([]);
  });
});
