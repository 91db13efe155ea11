// One client session: a sequential loop of "look at a product, maybe buy it", like a
// shopper; then the check that every order placed is stored as it was placed.
import { type HttpContext, OrderData, PlacedData, ProductData, send } from "./http.ts";
import { mulberry32, pick, sessionSeed } from "./random.ts";
import type { RestockWatch } from "./restocks.ts";
import type { SoldOutWatch } from "./sold-out.ts";
import type { RunStats } from "./stats.ts";

/** The seeded toys (db/init.sql). */
export const KNOWN_TOYS = [
  "Tux",
  "Fox",
  "Python",
  "Whale",
  "Gopher",
  "Ferris",
  "Duke",
  "Elephant",
  "Octocat",
  "Dolphin",
] as const;
/** Names no store sells, so that "product not found" is exercised on purpose. */
export const UNKNOWN_TOYS = ["Unicorn", "Kraken", "Yeti"] as const;
export const PRODUCT_NAMES: readonly string[] = [...KNOWN_TOYS, ...UNKNOWN_TOYS];

export type Choice = { name: string; coin: number };

/**
 * The random choices of one iteration. Both draws happen every iteration, whether or
 * not the product turns out to be in stock, so the sequence depends on the seed only.
 */
export function nextChoice(rng: () => number): Choice {
  return { name: pick(rng, PRODUCT_NAMES), coin: rng() };
}

/** The first n choices of session `index` under `seed` (for tests and replay). */
export function choices(seed: number, index: number, n: number): Choice[] {
  const rng = mulberry32(sessionSeed(seed, index));
  return Array.from({ length: n }, () => nextChoice(rng));
}

export type PlacedOrder = { number: number; name: string; quantity: number; session: number };

export type SessionPlan = {
  index: number;
  seed: number;
  iterations: number;
  p: number;
  /** True once no new iteration may start (duration over, or interrupted). */
  stop: () => boolean;
};

const productPath = (name: string) => `/products/${encodeURIComponent(name)}`;

/**
 * Runs one session's loop; orders it places are appended to `orders`, the stock it
 * reads goes to `restocks` and `soldOut` (with each purchase skipped for want of it).
 */
export async function runSession(
  ctx: HttpContext,
  stats: RunStats,
  plan: SessionPlan,
  orders: PlacedOrder[],
  restocks?: RestockWatch,
  soldOut?: SoldOutWatch,
): Promise<void> {
  const rng = mulberry32(sessionSeed(plan.seed, plan.index));
  for (let i = 0; i < plan.iterations && !plan.stop(); i++) {
    const { name, coin } = nextChoice(rng);
    const started = performance.now();
    const product = await send(ctx, stats.query, {
      method: "GET",
      path: productPath(name),
      data: ProductData,
      expected: [{ status: 404, message: "product not found", outcome: "not_found" }],
      // Names are matched ignoring case (design: Data), so only the case may differ.
      verify: (
        d,
      ) => (d.name.toLowerCase() === name.toLowerCase()
        ? null
        : `asked for ${JSON.stringify(name)}, got ${JSON.stringify(d.name)}`),
    });
    if (product.kind !== "ok") continue;
    const ended = performance.now();
    restocks?.observe(product.data.name, product.data.quantity, started, ended);
    soldOut?.observe(product.data.name, product.data.quantity, ended);
    // coin < p: p = 0 never buys, p = 1 always does (coin is in [0, 1)).
    if (coin >= plan.p) continue;
    if (product.data.quantity <= 0) {
      soldOut?.skip();
      continue;
    }
    // Buy by the store's own spelling of the name, which is what the order will carry.
    const item = product.data.name;
    const placed = await send(ctx, stats.buy, {
      method: "POST",
      path: "/orders",
      body: { name: item, quantity: 1 },
      data: PlacedData,
      expected: [
        { status: 409, message: "not enough stock", outcome: "out_of_stock" },
        // The item may vanish between the look and the purchase (an admin deletion).
        { status: 404, message: "product not found", outcome: "not_found" },
      ],
    });
    if (placed.kind === "ok") {
      orders.push({ number: placed.data.order_number, name: item, quantity: 1, session: plan.index });
    }
  }
}

export type Mismatch = {
  number: number;
  reason: string;
  expected: { name: string; quantity: number };
  actual: { number: number; name: string; quantity: number } | null;
};

export type Verification = { verified: number; unverified: number; mismatches: Mismatch[] };

/**
 * Looks every order up and compares it with what was placed. A missing order, a
 * different item or quantity, or one number handed out twice is a mismatch; a
 * lookup that fails (timeout, 5xx…) is an error and leaves the order unverified.
 */
export async function verifyOrders(
  ctx: HttpContext,
  stats: RunStats,
  orders: readonly PlacedOrder[],
  concurrency: number,
): Promise<Verification> {
  const result: Verification = { verified: 0, unverified: 0, mismatches: [] };
  const seen = new Set<number>();
  const unique: PlacedOrder[] = [];
  for (const o of orders) {
    if (seen.has(o.number)) {
      result.mismatches.push({
        number: o.number,
        reason: "order number given twice",
        expected: { name: o.name, quantity: o.quantity },
        actual: null,
      });
    } else {
      seen.add(o.number);
      unique.push(o);
    }
  }
  let next = 0;
  // A small pool of sequential workers, as many as there were sessions.
  const worker = async () => {
    while (next < unique.length) {
      const o = unique[next++]!;
      const expected = { name: o.name, quantity: o.quantity };
      const r = await send(ctx, stats.lookup, {
        method: "GET",
        path: `/orders/${o.number}`,
        data: OrderData,
        expected: [{ status: 404, message: "order not found", outcome: "not_found" }],
      });
      if (r.kind === "error") result.unverified++;
      else if (r.kind !== "ok") {
        result.mismatches.push({ number: o.number, reason: "order not found", expected, actual: null });
      } else {
        const d = r.data;
        const reason = d.number !== o.number
          ? "different order number"
          : d.name !== o.name
          ? "different product"
          : d.quantity !== o.quantity
          ? "different quantity"
          : null;
        if (reason) {
          result.mismatches.push({
            number: o.number,
            reason,
            expected,
            actual: { number: d.number, name: d.name, quantity: d.quantity },
          });
        } else result.verified++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, unique.length)) }, worker));
  result.mismatches.sort((a, b) => a.number - b.number);
  return result;
}
