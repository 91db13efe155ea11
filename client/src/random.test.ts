import { describe, expect, test } from "bun:test";
import { mulberry32, sessionSeed } from "./random.ts";
import { runClient } from "./run.ts";
import { choices, PRODUCT_NAMES } from "./session.ts";
import { startFakeStore } from "@bazaar/testutil/fake-store.ts";

describe("seeded randomness", () => {
  test("the same seed gives the same sequence", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  test("different seeds give different sequences", () => {
    const a = mulberry32(1);
    const b = mulberry32(2);
    expect(Array.from({ length: 10 }, () => a())).not.toEqual(Array.from({ length: 10 }, () => b()));
  });

  test("is roughly uniform: every product is picked, each within half of its fair share", () => {
    const picks = choices(7, 0, 2000).map((c) => c.name);
    const counts = new Map<string, number>();
    for (const name of picks) counts.set(name, (counts.get(name) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...PRODUCT_NAMES].sort());
    const fair = picks.length / PRODUCT_NAMES.length;
    const skewed = [...counts].filter(([, n]) => n < fair / 2 || n > fair * 1.5);
    expect(skewed).toEqual([]); // the seed is fixed: this is a check of the mapping, not of chance
  });

  test("each session of a run has its own stream", () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, i) => sessionSeed(42, i)));
    expect(seeds.size).toBe(100);
    expect(choices(42, 0, 20)).not.toEqual(choices(42, 1, 20));
  });

  test("a session's choices depend on the seed and its index only", () => {
    expect(choices(42, 3, 50)).toEqual(choices(42, 3, 50));
    expect(choices(42, 3, 50)).not.toEqual(choices(43, 3, 50));
  });
});

describe("seeded runs", () => {
  const run = async (seed: number) => {
    const store = startFakeStore();
    try {
      const report = await runClient({
        url: store.url,
        seed,
        sessions: 3,
        iterations: 40,
        p: 0.5,
        quiet: true,
      });
      const orders = [...store.orders.values()].map((o) => `${o.name}×${o.quantity}`);
      return { report, orders, stock: [...store.items.values()].map((i) => i.quantity) };
    } finally {
      await store.stop();
    }
  };

  test("the same seed against the same fresh store makes the same choices", async () => {
    const [a, b] = [await run(1234), await run(1234)];
    // With ample stock the outcomes do not depend on timing, so they are equal too.
    expect(b.report.requests.query.outcomes).toEqual(a.report.requests.query.outcomes);
    expect(b.report.orders.quantity_by_product).toEqual(a.report.orders.quantity_by_product);
    expect(b.stock).toEqual(a.stock);
    expect(a.report.seed).toBe(1234);
    expect(a.report.orders.placed).toBeGreaterThan(0);
  });

  test("a run with one session places the same orders in the same order", async () => {
    const one = async () => {
      const store = startFakeStore();
      try {
        await runClient({ url: store.url, seed: 99, sessions: 1, iterations: 60, p: 0.4, quiet: true });
        return [...store.orders.values()];
      } finally {
        await store.stop();
      }
    };
    const a = await one();
    expect(await one()).toEqual(a);
    expect(a.length).toBeGreaterThan(0);
  });
});
