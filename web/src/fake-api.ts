// An in-memory stand-in for the read API, for the storefront's in-process tests:
// the same routes, shapes and errors, plus switches to make it fail or hang.
import { type Context, Hono } from "hono";
import { fail, handleErrors } from "@bazaar/lib/http.ts";
import type { Item, Order } from "@bazaar/lib/schemas.ts";
import { fakeUpstreamFetch, type UpstreamMode } from "@bazaar/lib/testing.ts";
import { createApiClient } from "./api.ts";

export type FakeApi = ReturnType<typeof fakeApi>;

export function fakeApi(items: Item[] = []) {
  const state = {
    items: items.map((i) => ({ ...i })),
    orders: [] as Order[],
    mode: "ok" as UpstreamMode,
    seen: [] as Request[],
    /** Raised by every change, as the database's versions are; the ETags are made from it. */
    version: 1,
  };
  const tagged = (c: Context, tag: string, data: unknown) => {
    c.header("ETag", tag);
    return c.req.header("if-none-match") === tag ? c.body(null, 304) : c.json({ data });
  };
  const find = (name: string) => state.items.find((i) => i.name.toLowerCase() === name.toLowerCase());
  const app = handleErrors(
    new Hono()
      .get(
        "/items",
        (c) =>
          tagged(c, `"c${state.version}"`, [...state.items].sort((a, b) => a.name.localeCompare(b.name))),
      )
      .get("/items/:name", (c) => {
        const item = find(c.req.param("name"));
        if (!item) fail(404, "product not found");
        return tagged(c, `"i${state.version}"`, item);
      })
      .post("/orders", async (c) => {
        const { name, quantity } = await c.req.json<{ name: string; quantity: number }>();
        const item = find(name);
        if (!item) fail(404, "product not found");
        if (item.quantity < quantity) fail(409, "not enough stock");
        item.quantity -= quantity;
        state.version++;
        const order = {
          number: state.orders.length + 1,
          name: item.name,
          quantity,
          unit_price: item.price,
          created_at: "2025-01-02T03:04:05.000Z",
        };
        state.orders.push(order);
        return c.json({
          data: { order_number: order.number, name: item.name, quantity, unit_price: item.price },
        });
      })
      .get("/orders/:number", (c) => {
        const order = state.orders[Number(c.req.param("number")) - 1];
        if (!order) fail(404, "order not found");
        return c.json({ data: order });
      }),
  );
  const fetch = fakeUpstreamFetch(app, "test-token", state);
  const client = createApiClient({ url: "http://api.test", token: "test-token", timeoutMs: 100, fetch });
  return { state, client };
}
