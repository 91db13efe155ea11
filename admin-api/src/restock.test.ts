// The restocking loop with its dependencies given: an in-memory catalogue for the
// database step. The SQL step itself (clear.ts restockAndClear) runs against MariaDB
// in tests/admin-api/restock.test.ts, and with Redis in tests/system/restock.test.ts.
import { describe, expect, test } from "bun:test";
import type { Item } from "@bazaar/lib/schemas.ts";
import { type RestockDeps, restocker } from "./restock.ts";

function setup(items: Item[], over: Partial<RestockDeps> = {}) {
  const shelf = items.map((i) => ({ ...i }));
  const events: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const restockEmpty = async (to: number) => {
    const empty = shelf.filter((i) => i.quantity === 0);
    for (const i of empty) i.quantity = to;
    events.push(`db: ${empty.map((i) => i.name).join(",")}`);
    return empty.map((i) => ({ ...i }));
  };
  const r = restocker({
    restock: restockEmpty,
    plan: { everyMs: 20, to: 100 },
    log: (e) => logs.push(e),
    ...over,
  });
  return { r, shelf, events, logs };
}

const TOYS: Item[] = [
  { name: "Tux", quantity: 0, price: 15.99 },
  { name: "Fox", quantity: 3, price: 12.49 },
  { name: "Python", quantity: 0, price: 19.99 },
];

describe("a restocking round", () => {
  // Which items the step restocks is its SQL's business (tests/admin-api/restock.test.ts).
  test("asks its step for the plan's level, and answers what the step restocked", async () => {
    const asked: number[] = [];
    const tux = { name: "Tux", quantity: 100, price: 15.99 };
    const { r } = setup(TOYS, { restock: async (to) => (asked.push(to), [tux]) });
    expect(await r.round()).toEqual([tux]);
    expect(asked).toEqual([100]);
  });

  test("logs what it restocked, once the database has it", async () => {
    const { r, events, logs } = setup(TOYS);
    await r.round();
    expect(events).toEqual(["db: Tux,Python"]);
    expect(logs).toMatchObject([{ level: "info", msg: "restocked", to: 100, items: ["Tux", "Python"] }]);
  });

  test("with nothing at 0, logs nothing", async () => {
    const { r, events, logs } = setup([{ name: "Fox", quantity: 3, price: 12.49 }]);
    expect(await r.round()).toEqual([]);
    expect(events).toEqual(["db: "]);
    expect(logs).toEqual([]);
  });

  test("a failing database is logged and the round skipped; the next one restocks", async () => {
    let down = true;
    const shelf = TOYS.map((i) => ({ ...i }));
    const { r, logs } = setup(TOYS, {
      restock: async (to) => {
        if (down) throw new Error("the database is unavailable");
        const empty = shelf.filter((i) => i.quantity === 0);
        for (const i of empty) i.quantity = to;
        return empty;
      },
    });
    expect(await r.round()).toEqual([]);
    expect(logs).toMatchObject([{ level: "error", error: "Error: the database is unavailable" }]);
    down = false;
    expect((await r.round()).map((i) => i.name)).toEqual(["Tux", "Python"]);
    expect(shelf.map((i) => i.quantity)).toEqual([100, 3, 100]);
  });

  test("two rounds never run at once: the second waits for the first", async () => {
    let inside = 0;
    let most = 0;
    const { r } = setup(TOYS, {
      restock: async () => {
        most = Math.max(most, ++inside);
        await Bun.sleep(15);
        inside--;
        return [];
      },
    });
    await Promise.all([r.round(), r.round(), r.round()]);
    expect(most).toBe(1);
  });
});

describe("the timer", () => {
  test("off until started; then a round every interval, the first one interval after the start", async () => {
    let rounds = 0;
    const { r } = setup(TOYS, { restock: async () => (rounds++, []) });
    await Bun.sleep(50);
    expect(rounds).toBe(0);
    r.start();
    await Bun.sleep(5);
    expect(rounds).toBe(0);
    await Bun.sleep(110);
    await r.stop();
    // 20 ms apart over ~115 ms: a few rounds, however slow the machine is today.
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(rounds).toBeLessThanOrEqual(6);
  });

  test("an item that reaches 0 later is restocked by a later round", async () => {
    const { r, shelf } = setup(TOYS);
    r.start();
    try {
      await Bun.sleep(60);
      expect(shelf.map((i) => i.quantity)).toEqual([100, 3, 100]);
      shelf[1]!.quantity = 0;
      const until = Date.now() + 2000;
      while (shelf[1]!.quantity === 0 && Date.now() < until) await Bun.sleep(5);
      expect(shelf[1]!.quantity).toBe(100);
    } finally {
      await r.stop();
    }
  });

  test("two admin-apis: rounds at the middle of each interval, each interval's made by one of them only", async () => {
    const claimed = new Set<number>();
    const made: { slot: number; phase: number }[] = [];
    const every = 20;
    const claim = async (slot: number) => !claimed.has(slot) && !!claimed.add(slot);
    const restock = async () => {
      const t = Date.now();
      made.push({ slot: Math.floor(t / every), phase: (t % every) / every });
      return [];
    };
    const both = [1, 2].map(() =>
      restocker({ restock, claim, plan: { everyMs: every, to: 100 }, log: () => {} })
    );
    for (const r of both) r.start();
    await Bun.sleep(250);
    await Promise.all(both.map((r) => r.stop()));
    expect(made.length).toBeGreaterThanOrEqual(5);
    // One round per interval, never two.
    expect(new Set(made.map((m) => m.slot)).size).toBe(made.length);
    // Near the middle of its interval (timers fire late on a busy machine, never early).
    for (const m of made) expect(m.phase).toBeGreaterThanOrEqual(0.45);
  });

  test("stop waits for a round under way, and no round starts after it", async () => {
    let rounds = 0;
    let finished = 0;
    const { r } = setup(TOYS, {
      restock: async () => {
        rounds++;
        await Bun.sleep(30);
        finished++;
        return [];
      },
    });
    r.start();
    await Bun.sleep(30); // the first round (at 20 ms) is under way
    await r.stop();
    expect(finished).toBe(rounds);
    const after = rounds;
    await Bun.sleep(80);
    expect(rounds).toBe(after);
  });
});
