// What the bench buys, and the check after it: every order stored, and the stock down
// by exactly their units. The one-node runs and the three-node run (cluster.ts) share it.
import { say } from "./say.ts";
import type { storeAdmin } from "./store.ts";

// Purchases spread over several items, as a shop's do (one hot row would serialise
// every order on its lock, each waiting for the commit before it to reach the disk).
export const BENCH_ITEMS = Array.from({ length: 8 }, (_, i) => `Bench ${i + 1}`);
export const FULL_STOCK = 1_000_000;
/** The purchases' bodies, one per bench item (quantity 1), for wrk's round robin. */
export const ORDER_BODIES = BENCH_ITEMS.map((name) => JSON.stringify({ name, quantity: 1 }));

/**
 * The bench items' orders after order key `after` and what their stock lost, once
 * purchases still in flight have landed.
 *
 * @example const { ok } = await checkOrders(storeAdmin(stack), firstOrder);
 */
export async function checkOrders(admin: ReturnType<typeof storeAdmin>, after: number) {
  // Purchases still in flight when wrk stopped finish on their own: let them land first.
  await Bun.sleep(2000);
  const r = await admin.stockAndOrders(BENCH_ITEMS, after);
  const stockDrop = FULL_STOCK * BENCH_ITEMS.length - r.stock;
  const ok = r.lowest >= 0 && stockDrop === r.units;
  say(
    `orders: ${r.count} placed (${r.units} units), stock went down by ${stockDrop}: ${
      ok ? "consistent" : "MISMATCH"
    }`,
  );
  return { placed: r.count, units: r.units, stockDrop, ok };
}
