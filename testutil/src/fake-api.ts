// An in-memory stand-in for the read API, for the storefront's in-process tests:
// the same routes, shapes and errors, plus switches to make it fail or hang.
import { type Context, Hono } from "hono";
import { fail, handleErrors, jsonBody, validate } from "@bazaar/lib/http.ts";
import { nameKey } from "@bazaar/lib/name-key.ts";
import {
  CatalogCheck,
  type CatalogPage,
  CatalogQuery,
  type Item,
  type Order,
  OrderRequest,
  RequestIdQuery,
} from "@bazaar/lib/schemas.ts";
import { fakeUpstreamFetch, type UpstreamMode } from "./upstream.ts";
import { createApiClient } from "@bazaar/web/src/api-client.ts";

export type FakeApi = ReturnType<typeof fakeApi>;

/** The Bearer token the fake takes (its `client` sends it). */
export const FAKE_API_TOKEN = "test-token";

type Stocked = Item & { id: number; version: number };

/**
 * The read API in memory, from `items`, with web's typed client to it.
 * @example
 * const api = fakeApi([{ name: "Tux", quantity: 3, price: 15.99 }]);
 * const app = createApp({ api: api.client, identity, log, requestIdKey }); // web/src/app.ts
 * api.state.mode = "hang"; // the api stops answering
 */
export function fakeApi(items: Item[] = []) {
  let ids = 0;
  const state = {
    items: items.map((i): Stocked => ({ ...i, id: ++ids, version: 1 })),
    orders: [] as (Order & { request_id?: string })[],
    mode: "ok" as UpstreamMode,
    seen: [] as Request[],
  };
  const find = (name: string) => state.items.find((i) => nameKey(i.name) === nameKey(name));
  const plain = ({ name, quantity, price }: Stocked): Item => ({ name, quantity, price });
  const itemTag = (i: Stocked) => `"i${i.id}.${i.version}"`;
  const pageOf = (page: number, per_page: number, q: string) => {
    const all = [...state.items]
      .filter((i) => nameKey(i.name).includes(nameKey(q)))
      .sort((a, b) => a.name.localeCompare(b.name));
    const shown = all.slice((page - 1) * per_page, page * per_page);
    const value: CatalogPage = { items: shown.map(plain), page, per_page, total: all.length, q };
    return { value, etag: `"l${all.length}.${shown.map((i) => `${i.id}.${i.version}`).join("-")}"` };
  };
  const tagged = (c: Context, tag: string, data: unknown) => {
    c.header("ETag", tag);
    return c.req.header("if-none-match") === tag ? c.body(null, 304) : c.json({ data });
  };
  const app = handleErrors(
    new Hono()
      // Requests checked with the api's own schemas, so the fake refuses what it refuses.
      .get("/items", validate("query", CatalogQuery), (c) => {
        const { page, per_page, q } = c.req.valid("query");
        const { value, etag } = pageOf(page, per_page, q);
        return tagged(c, etag, value);
      })
      .post("/items/check", ...jsonBody(CatalogCheck), (c) => {
        const ask = c.req.valid("json");
        const answer = <T>(etag: string, value: T, had?: string) =>
          etag === had ? { etag, unchanged: true as const } : { etag, value };
        return c.json({
          data: {
            items: ask.items.map(({ name, etag }) => {
              const item = find(name);
              return item ? answer(itemTag(item), plain(item), etag) : { missing: true as const };
            }),
            pages: ask.pages.map(({ page, per_page, q, etag }) => {
              const found = pageOf(page, per_page, q);
              return answer(found.etag, found.value, etag);
            }),
          },
        });
      })
      .get("/items/:name", (c) => {
        const item = find(c.req.param("name"));
        if (!item) fail(404, "product not found");
        return tagged(c, itemTag(item), plain(item));
      })
      .post("/orders", ...jsonBody(OrderRequest), (c) => {
        const { name, quantity, price } = c.req.valid("json");
        const item = find(name);
        if (!item) fail(404, "product not found");
        if (price !== undefined && price !== item.price) {
          fail(409, `the price changed to ${item.price.toFixed(2)}`, {
            price: `is ${item.price.toFixed(2)} now`,
          });
        }
        if (item.quantity < quantity) fail(409, "not enough stock");
        item.quantity -= quantity;
        item.version++;
        const order = {
          number: state.orders.length + 1,
          name: item.name,
          quantity,
          unit_price: item.price,
          created_at: "2025-01-02T03:04:05.000Z",
          request_id: c.req.header("x-request-id"),
        };
        state.orders.push(order);
        return c.json({
          data: { order_number: order.number, name: item.name, quantity, unit_price: item.price },
        });
      })
      .get("/orders", validate("query", RequestIdQuery), (c) => {
        const order = state.orders.find((o) => o.request_id === c.req.valid("query").request_id);
        if (!order) fail(404, "order not found");
        const { request_id: _, ...shown } = order;
        return c.json({ data: shown });
      })
      .get("/orders/:number", (c) => {
        const order = state.orders[Number(c.req.param("number")) - 1];
        if (!order) fail(404, "order not found");
        const { request_id: _, ...shown } = order;
        return c.json({ data: shown });
      }),
  );
  const fetch = fakeUpstreamFetch(app, FAKE_API_TOKEN, state);
  const client = createApiClient({ url: "http://api.test", token: FAKE_API_TOKEN, timeoutMs: 100, fetch });
  /** Change an item as a write would (its version raised), e.g. a price correction. */
  const change = (name: string, values: Partial<Item>) => {
    const item = find(name);
    if (!item) throw new Error(`no item ${name}`);
    Object.assign(item, values);
    item.version++;
  };
  /** Add an item as the admin would. */
  const add = (item: Item) => void state.items.push({ ...item, id: ++ids, version: 1 });
  return { state, client, change, add, fetch };
}
