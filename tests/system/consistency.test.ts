// Consistency under load (docs/reliability.md). Many buyers and an admin restocking
// the same items at once, readers on both web servers and the proxy all the while. At
// the end the stock adds up exactly, every order is readable, no read ever showed a
// quantity below zero, and no read that started after a write was acknowledged
// returned a value from before that write (the cache never serves the old value).
import { expect, test } from "bun:test";
import { publicOrderNumber } from "../../lib/src/order-number.ts";
import { uniqueName } from "../../testutil/src/test-stack.ts";
import {
  adminBrowser,
  createItem,
  dbQuantity,
  productVia,
  record,
  restoreAll,
  staleReadsOfBought,
} from "./helpers.ts";
import { env, stack } from "./stack.ts";

type Read = { item: string; base: string; start: number; value: number; status: number };
type Purchase = { item: string; order: number; quantity: number; acked: number };
type Restock = { previous: number; next: number; acked: number };

const sqlRows = async (sql: string) =>
  (await stack().sql(sql)).trim().split("\n").slice(1).map((l) => l.split("\t"));

test(
  "buyers and an admin restocking the same items at once: stock adds up exactly, orders readable, never below zero, never an old value after a write",
  async () => {
    await restoreAll();
    // P: only bought, so its stock after each order is exact (orders are numbered in the
    // order the item's row lock serialised them). M: bought and restocked, starting
    // small so buyers run it out (409s) before the first restock arrives.
    const P = uniqueName("Consistency bought");
    const M = uniqueName("Consistency mixed");
    const P0 = 100_000;
    const M0 = 20;
    const RESTOCK = 30_000;
    await createItem(P, P0);
    await createItem(M, M0);
    const bases = [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;

    const reads: Read[] = [];
    const purchases: Purchase[] = [];
    const restocks: Restock[] = [];
    const errors: string[] = [];
    let refused = 0;
    const deadline = performance.now() + 8000;
    const running = () => performance.now() < deadline;

    const buyer = async () => {
      while (running()) {
        const item = pick([P, M, M]);
        const quantity = 1 + Math.floor(Math.random() * 3);
        const res = await fetch(`${pick(bases)}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: item, quantity }),
        });
        const body = (await res.json()) as { data?: { order_number: number }; error?: { message: string } };
        if (res.status === 200) {
          purchases.push({ item, order: body.data!.order_number, quantity, acked: performance.now() });
        } else if (res.status === 409 && item === M) refused++;
        else errors.push(`buy ${item}: ${res.status} ${JSON.stringify(body)}`);
      }
    };
    const reader = async () => {
      while (running()) {
        const item = pick([P, M]);
        const base = pick(bases);
        const start = performance.now();
        const r = await productVia(base, item);
        if (r.status !== 200) errors.push(`read ${item} via ${base}: ${r.status}`);
        reads.push({ item, base, start, value: r.quantity ?? NaN, status: r.status });
      }
    };
    const admin = await adminBrowser();
    const token = await admin.token();
    const restocker = async () => {
      await Bun.sleep(1000);
      while (running()) {
        const res = await admin.post("/admin/items", {
          name: M,
          quantity: String(RESTOCK),
          price: "",
          _csrf: token,
        });
        const acked = performance.now();
        if (res.status !== 303) {
          errors.push(`restock: ${res.status}`);
          continue;
        }
        // The flash on the next page says exactly what happened: "Restocked M: a → b".
        const page = await (await admin.get("/admin")).text();
        const m = page.match(/Restocked [^:]*: ([\d,]+) → ([\d,]+)/);
        if (!m) {
          errors.push("restock: no message saying what happened");
          continue;
        }
        restocks.push({
          previous: Number(m[1]!.replaceAll(",", "")),
          next: Number(m[2]!.replaceAll(",", "")),
          acked,
        });
        await Bun.sleep(500);
      }
    };

    await Promise.all([
      buyer(),
      buyer(),
      buyer(),
      buyer(),
      buyer(),
      reader(),
      reader(),
      reader(),
      restocker(),
    ]);

    // No request failed.
    expect(errors.slice(0, 10), `${errors.length} errors`).toEqual([]);

    // The stock adds up exactly: initial + restocked − sold, for both items.
    const sold = (item: string) =>
      purchases.filter((p) => p.item === item).reduce((n, p) => n + p.quantity, 0);
    const restocked = restocks.length * RESTOCK;
    expect(await dbQuantity(P)).toBe(P0 - sold(P));
    expect(await dbQuantity(M)).toBe(M0 + restocked - sold(M));
    // And the database holds exactly the orders that were acknowledged.
    const stored = await sqlRows(
      `SELECT number, item_name, quantity FROM bazaar.orders WHERE item_name IN ('${P}', '${M}') ORDER BY number`,
    );
    expect(stored.length).toBe(purchases.length);

    // Every order is readable through the store, as it was placed.
    const byNumber = new Map(purchases.map((p) => [p.order, p]));
    for (let i = 0; i < stored.length; i += 16) {
      await Promise.all(
        stored.slice(i, i + 16).map(async ([key]) => {
          // The database's key, read back by the number the store gave out.
          const n = publicOrderNumber(Number(key));
          const res = await fetch(`${pick(bases)}/orders/${n}`);
          expect(res.status).toBe(200);
          const { data } = (await res.json()) as { data: { number: number; name: string; quantity: number } };
          const placed = byNumber.get(n)!;
          expect(data).toEqual({ number: n, name: placed.item, quantity: placed.quantity });
        }),
      );
    }

    // No read ever showed a quantity below zero (or anything but a whole number).
    expect(reads.filter((r) => !(Number.isInteger(r.value) && r.value >= 0))).toEqual([]);

    // P: after order k was acknowledged, no read may show more than P0 − (units of
    // orders up to k): that would be the value from before it.
    const staleP = staleReadsOfBought(
      reads.filter((r) => r.item === P),
      purchases.filter((p) => p.item === P),
      P0,
    );
    expect(staleP.slice(0, 5)).toEqual([]);

    // M: each restock adds far more than all purchases of M together (checked), so any
    // value from before restock W is at most W.previous + sold(M), and every value
    // after it at least W.next − sold(M): a read after the acknowledgement below that is stale.
    const soldM = sold(M);
    expect(RESTOCK).toBeGreaterThan(2 * soldM);
    const staleM = reads.filter((r) => r.item === M).filter((r) =>
      restocks.some((w) => w.acked < r.start && r.value < w.next - soldM)
    );
    expect(staleM.slice(0, 5)).toEqual([]);

    const perBase = Object.fromEntries(bases.map((b) => [b, reads.filter((r) => r.base === b).length]));
    record({
      case: "consistency under load",
      purchases: purchases.length,
      units_sold: sold(P) + soldM,
      refused_out_of_stock: refused,
      restocks: restocks.length,
      reads: reads.length,
      reads_per_entry: Object.values(perBase).join("/"),
      stale_reads: staleP.length + staleM.length,
      negative_reads: 0,
    });
    // The test means something: both items were bought, M ran out and was restocked, and every path was read.
    expect(purchases.filter((p) => p.item === P).length).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(0);
    expect(restocks.length).toBeGreaterThan(3);
    for (const n of Object.values(perBase)) expect(n).toBeGreaterThan(20);
  },
  60_000,
);
