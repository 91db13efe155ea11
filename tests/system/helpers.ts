// What the reliability, consistency, fuzz and security tests share: bringing a
// service back (and waiting until HAProxy routes to it again), a checksum of the
// data, small loads, a signed-in admin browser, sign-in attempts and a held row.
import mysql from "mysql2/promise";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { forwardedHeaders } from "../../lib/src/forwarded.ts";
import { adminApi } from "./http.ts";
import { env, eventually, proxyStatus, stack } from "./stack.ts";

/** The HAProxy backend a web/admin server sits in, if any. */
export const backendOf = (
  name: string,
) => (name.startsWith("web-")
  ? "web"
  : name.startsWith("admin-") && !name.startsWith("admin-api")
  ? "admin"
  : undefined);

/**
 * Starts a service if it is not running and waits until it is healthy and, for a
 * web/admin server, until HAProxy has it UP again: every test that stops or kills
 * a service calls this in its `finally`, so the next test finds the stack whole.
 */
export async function restore(name: string, timeoutMs = 30_000) {
  const s = stack();
  if (s.running(name)) {
    // Still up, or still draining after a SIGTERM (then it exits and is started below).
    await s.waitHealthy(name, timeoutMs).catch(() => {});
  }
  if (!s.running(name)) await s.start(name);
  await s.waitHealthy(name, timeoutMs);
  const backend = backendOf(name);
  if (backend) await eventually(async () => (await proxyStatus(backend, name)) === "UP", timeoutMs, 100);
}

/** Every service running, healthy and UP in HAProxy (the state every test starts from). */
export async function restoreAll() {
  for (const name of stack().services) await restore(name);
}

/** HAProxy took the server out of rotation (DOWN, or MAINT/NOLB while draining). */
export const outOfRotation = async (backend: string, server: string) => {
  const status = await proxyStatus(backend, server);
  return status !== undefined && !status.startsWith("UP");
};

/** A checksum of everything a purchase or an admin write could change. */
export async function dataChecksum() {
  return (await stack().sql(
    "SELECT " +
      "(SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', id, name, name_key, quantity, price))), 0)) FROM bazaar.items), " +
      "(SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', number, item_id, item_name, quantity, unit_price))), 0)) FROM bazaar.orders)",
  )).trim();
}

/** The database's view of one item's stock, or null when there is no such item. */
export async function dbQuantity(name: string): Promise<number | null> {
  const out = (await stack().sql(
    `SELECT quantity FROM bazaar.items WHERE name_key = LOWER('${name.replaceAll("'", "''")}')`,
  )).trim();
  const last = out.split("\n").at(-1) ?? "";
  return /^\d+$/.test(last) ? Number(last) : null;
}

/** A new item of a test's own, through admin-api (so the cached list learns of it too). */
export async function createItem(name: string, quantity: number, price = 5) {
  const res = await fetch(`${env("ADMIN_API_URL")}/items`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name, quantity, price }),
  });
  if (res.status !== 201) throw new Error(`could not create ${name}: HTTP ${res.status} ${await res.text()}`);
}

/** GET through the store (or one web server) of one product's JSON view. */
export async function productVia(base: string, name: string) {
  const res = await fetch(`${base}/products/${encodeURIComponent(name)}`);
  const body = (await res.json()) as {
    data?: { quantity: number };
    error?: { code: number; message: string };
  };
  return {
    status: res.status,
    quantity: body.data?.quantity,
    body,
    servedBy: res.headers.get("x-served-by"),
  };
}

/** A purchase through the public JSON API. */
export async function buy(base: string, name: string, quantity = 1) {
  const res = await fetch(`${base}/orders`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, quantity }),
  });
  const body = (await res.json()) as {
    data?: { order_number: number };
    error?: { code: number; message: string };
  };
  return { status: res.status, order: body.data?.order_number, body };
}

/** Sets an item's stock through admin-api (which clears the cache as every write does). */
export async function setQuantity(name: string, quantity: number) {
  const res = await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, { quantity });
  if (res.status !== 200) throw new Error(`could not set ${name} to ${quantity}: HTTP ${res.status}`);
}

/**
 * The load client buys only the seeded toys; enough of them for every load in a
 * file, and their stock as it was afterwards, so other test files see the seed.
 */
export async function stockToys(toys: readonly string[], quantity = 20_000) {
  const before = new Map<string, number>();
  for (const toy of toys) {
    const q = await dbQuantity(toy);
    if (q !== null) before.set(toy, q);
    await setQuantity(toy, quantity);
  }
  return async () => {
    for (const [toy, q] of before) await setQuantity(toy, q);
  };
}

/**
 * The headers HAProxy sends for a client at `address` (X-Forwarded-*, signed with the
 * stack's key: lib/src/forwarded.ts), for a request straight to an admin server at
 * `base` as that client would reach it through the proxy. Without them an admin
 * server counts every direct client as one.
 */
export const asProxied = (base: string, address: string) =>
  forwardedHeaders(stack().secrets.REQUEST_ID_KEY, { address, proto: "http", host: new URL(base).host });

/**
 * One sign-in form posted to `${base}/admin/login` as the admin user, from the page's
 * own origin, with `headers` added (who the client says it is: `asProxied`, or its own
 * X-Forwarded-For).
 */
export const signInAttempt = (base: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base, ...headers },
    body: new URLSearchParams({ user: env("ADMIN_USER"), password }).toString(),
  });

/** A connection of the admin-api's database account, for a test to hold locks with. */
export const adminDbConnection = () =>
  mysql.createConnection({
    host: "127.0.0.1",
    port: Number(env("DB_PORT")),
    user: "bazaar_admin",
    password: env("ADMIN_DB_PASSWORD"),
    database: "bazaar",
  });

/**
 * Holds the item's row on `holder` (SELECT … FOR UPDATE in an open transaction) for
 * `ms`, as a slow correction would, while `during` runs; released when both are over.
 */
export async function holdRow(
  holder: mysql.Connection,
  name: string,
  ms: number,
  during: () => Promise<void>,
) {
  await holder.query("START TRANSACTION");
  await holder.query("SELECT quantity FROM items WHERE name_key = LOWER(?) FOR UPDATE", [name]);
  const released = Bun.sleep(ms).then(() => holder.query("ROLLBACK"));
  try {
    await during();
  } finally {
    await released;
  }
}

/** A browser signed in to the admin site through the proxy (or one admin server). */
export async function adminBrowser(base = env("STORE_URL")) {
  const browser = new AdminBrowser(base);
  const res = await browser.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"));
  if (res.status !== 303) throw new Error(`admin sign-in failed: HTTP ${res.status}`);
  return browser;
}

export type LoadResult = { sent: number; failed: number; failures: string[]; servedBy: Map<string, number> };

/**
 * A closed loop of `workers` clients repeating `one()` until `signal` aborts; every
 * answer `one` calls a failure is counted with its reason.
 */
export async function loop(
  workers: number,
  signal: AbortSignal,
  one: () => Promise<{ ok: boolean; why?: string; servedBy?: string }>,
): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, failed: 0, failures: [], servedBy: new Map() };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!signal.aborted) {
        result.sent++;
        try {
          const r = await one();
          if (r.servedBy) result.servedBy.set(r.servedBy, (result.servedBy.get(r.servedBy) ?? 0) + 1);
          if (!r.ok) {
            result.failed++;
            if (result.failures.length < 20) result.failures.push(r.why ?? "failed");
          }
        } catch (err) {
          result.failed++;
          if (result.failures.length < 20) result.failures.push(String(err));
        }
      }
    }),
  );
  return result;
}

/** Milliseconds since `t0`, rounded. */
export const since = (t0: number) => Math.round(performance.now() - t0);

/** Results the tests record for docs/reliability.md (printed at the end of each file). */
export const results: Record<string, unknown>[] = [];
export const record = (row: Record<string, unknown>) => {
  results.push(row);
  console.log(`[reliability] ${JSON.stringify(row)}`);
};

/** A read of an item's quantity (and price), from when it began. */
export type TimedRead = { start: number; value: number; price?: number; base?: string };
/** An acknowledged purchase: its order number, how many, when the answer came. */
export type TimedPurchase = { order: number; quantity: number; acked: number };

/**
 * The reads of an item only ever bought (from `initial`) that show a value from before
 * a purchase acknowledged before they began: after order k was acknowledged no read may
 * show more than `initial` − the units of the orders up to k (orders are numbered in
 * the order the item's row lock serialised them).
 * @example
 * expect(staleReadsOfBought(reads, purchases, 100_000)).toEqual([]);
 */
export function staleReadsOfBought<R extends TimedRead>(
  reads: R[],
  purchases: TimedPurchase[],
  initial: number,
): R[] {
  let cumulative = 0;
  const afterOrder = [...purchases].sort((a, b) => a.order - b.order).map((p) => ({
    acked: p.acked,
    value: initial - (cumulative += p.quantity),
  }));
  return reads.filter((r) => {
    const floor = Math.min(initial, ...afterOrder.filter((a) => a.acked < r.start).map((a) => a.value));
    return r.value > floor;
  });
}
