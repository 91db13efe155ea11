// An in-memory stand-in for admin-api, for the admin site's in-process tests.
import { type Context, Hono } from "hono";
import { fail, handleErrors, jsonBody, validate } from "@bazaar/lib/http.ts";
import {
  AddItem,
  type CacheCleared,
  CatalogQuery,
  CorrectItem,
  type Item,
  type Order,
  Paging,
  WriteHeaders,
} from "@bazaar/lib/schemas.ts";
import { fakeUpstreamFetch } from "./upstream.ts";
import { signInLimiter } from "@bazaar/admin-api/src/logins.ts";
import { sessions } from "@bazaar/admin-api/src/routes/sessions.ts";
import { sessionStore } from "@bazaar/admin-api/src/sessions.ts";
import { memoryKv } from "./memory-kv.ts";
import { createAdminApiClient } from "@bazaar/admin/src/admin-api-client.ts";

/** The Bearer token the fake takes (its `client` sends it). */
export const FAKE_ADMIN_API_TOKEN = "admin-token";

/** The `page`-th `per_page` rows of `all`, and how many there are in all. */
const pageOf = <T>(all: T[], page: number, per_page: number) => ({
  rows: all.slice((page - 1) * per_page, page * per_page),
  page,
  per_page,
  total: all.length,
});

/**
 * admin-api in memory, from `items` and `orders`, with admin's typed client to it.
 * @example
 * const adminApi = fakeAdminApi([{ name: "Tux", quantity: 3, price: 15.99 }]);
 * adminApi.state.writeFails = 504; // writes are made, their answers lost
 */
export function fakeAdminApi(items: Item[] = [], orders: Order[] = []) {
  const state = {
    items: items.map((i) => ({ ...i })),
    orders: [...orders],
    mode: "ok" as "ok" | "down",
    seen: [] as Request[],
    /** How every write says the store's cache was cleared (admin-api waits for the relay when it cannot). */
    cache: "cleared" as CacheCleared,
    /**
     * How writes end, as admin-api's deadline makes them: 503 changes nothing; 504
     * makes the change and loses its answer (a COMMIT the database never confirmed);
     * "hang" never answers (the site's own deadline ends it).
     */
    writeFails: undefined as 503 | 504 | "hang" | undefined,
    /** Each Idempotency-Key's first answer, as admin-api records it (admin-api/src/once.ts). */
    answers: new Map<string, { status: 200 | 201; data: Record<string, unknown> }>(),
  };
  // Sessions and the sign-in limit are admin-api's own code, over a Redis kept in memory.
  const redis = memoryKv();
  const access = { store: sessionStore({ kv: redis.kv, log: () => {} }), limiter: signInLimiter() };
  // As admin-api/src/once.ts: a key seen before gets its answer again, nothing changed.
  const once = async (
    c: Context,
    write: () => Promise<{ status: 200 | 201; data: Record<string, unknown> }>,
  ) => {
    const key = c.req.header("idempotency-key");
    const earlier = key ? state.answers.get(key) : undefined;
    if (earlier) return c.json({ data: { ...earlier.data, replayed: true } }, earlier.status);
    if (state.writeFails === 503) fail(503, "the change was not made: the database did not answer in time");
    if (state.writeFails === "hang") {
      const signal = c.req.raw.signal;
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    }
    const answer = await write();
    if (key) state.answers.set(key, answer);
    if (state.writeFails === 504) fail(504, "the change may or may not have been made");
    return c.json({ data: { ...answer.data, replayed: false } }, answer.status);
  };
  const find = (name: string) => state.items.find((i) => i.name.toLowerCase() === name.toLowerCase());
  const app = handleErrors(
    new Hono()
      // Requests checked with admin-api's own schemas, so the fake refuses what it refuses.
      .get("/items", validate("query", CatalogQuery), (c) => {
        const { page, per_page, q } = c.req.valid("query");
        const all = [...state.items]
          .filter((i) => i.name.toLowerCase().includes(q.toLowerCase()))
          .sort((a, b) => a.name.localeCompare(b.name));
        const summary = {
          items: state.items.length,
          units: state.items.reduce((n, i) => n + i.quantity, 0),
          out_of_stock: state.items.filter((i) => i.quantity === 0).length,
          value: state.items.reduce((n, i) => n + i.quantity * i.price, 0),
        };
        const { rows: items, ...paging } = pageOf(all, page, per_page);
        return c.json({ data: { items, ...paging, q, summary } });
      })
      .get("/items/:name", (c) => {
        const item = find(c.req.param("name"));
        if (!item) fail(404, "item not found");
        return c.json({ data: item });
      })
      .post("/items", validate("header", WriteHeaders), ...jsonBody(AddItem), (c) =>
        once(c, async () => {
          const { name, quantity, price } = c.req.valid("json");
          const item = find(name);
          if (!item) {
            if (price === undefined) {
              fail(400, "price: is required for a new item", { price: "is required for a new item" });
            }
            const added = { name, quantity, price };
            state.items.push(added);
            return { status: 201, data: { action: "inserted", item: added, cache: state.cache } };
          }
          // As admin-api: a restock keeps the price unless the price it replaces is given.
          if (price !== undefined && price !== item.price) {
            fail(409, `price: ${item.name} costs ${item.price.toFixed(2)}`, {
              price: `is ${item.price.toFixed(2)}: a restock keeps it (correct the price in the item's row)`,
            });
          }
          const previous = item.quantity;
          item.quantity += quantity;
          return {
            status: 200,
            data: {
              action: "restocked",
              item: { ...item },
              previous_quantity: previous,
              previous_price: item.price,
              cache: state.cache,
            },
          };
        }))
      .patch(
        "/items/:name",
        validate("header", WriteHeaders),
        ...jsonBody(CorrectItem),
        (c) =>
          once(c, async () => {
            const item = find(c.req.param("name"));
            if (!item) fail(404, "item not found");
            const { was_quantity, was_price, ...change } = c.req.valid("json");
            // As admin-api: a correction of a value that changed meanwhile is refused.
            if (was_quantity !== undefined && was_quantity !== item.quantity) {
              fail(
                409,
                `${item.name} was not changed: its quantity is ${item.quantity} now, not ${was_quantity}`,
                { quantity: `is ${item.quantity} now, not ${was_quantity}` },
              );
            }
            if (was_price !== undefined && was_price !== item.price) {
              fail(409, `${item.name} was not changed: its price is ${item.price} now, not ${was_price}`, {
                price: `is ${item.price} now, not ${was_price}`,
              });
            }
            Object.assign(item, change);
            return { status: 200, data: { item: { ...item }, cache: state.cache } };
          }),
      )
      .delete("/items/:name", validate("header", WriteHeaders), (c) =>
        once(c, async () => {
          const item = find(c.req.param("name"));
          if (!item) fail(404, "item not found");
          state.items = state.items.filter((i) => i !== item);
          return { status: 200, data: { item, cache: state.cache } };
        }))
      .get("/orders", validate("query", Paging), (c) => {
        const { page, per_page } = c.req.valid("query");
        const newest = [...state.orders].sort((a, b) => b.number - a.number);
        const { rows: orders, ...paging } = pageOf(newest, page, per_page);
        return c.json({ data: { orders, ...paging } });
      })
      .route("/sessions", sessions(access)),
    { log: () => {} },
  );
  const fetch = fakeUpstreamFetch(app, FAKE_ADMIN_API_TOKEN, state);
  return {
    state,
    redis,
    access,
    fetch,
    client: createAdminApiClient({
      url: "http://admin-api.test",
      token: FAKE_ADMIN_API_TOKEN,
      timeoutMs: 100,
      fetch,
    }),
  };
}
