import { Hono } from "hono";
import * as v from "valibot";
import { type CatalogCache, directOrRelayed, stemOf } from "@bazaar/lib/data/catalog-cache.ts";
import { nameKey } from "@bazaar/lib/data/catalog-db.ts";
import { checkedText } from "@bazaar/lib/checked-text.ts";
import { fail, jsonBody, validate } from "@bazaar/lib/http.ts";
import { selectOrder, selectOrderByRequest } from "@bazaar/lib/data/orders.ts";
import type { HonoEnv } from "@bazaar/lib/log.ts";
import { Order, OrderNumber, OrderRequest, RequestIdQuery } from "@bazaar/lib/schemas.ts";
import type { ServiceDeps } from "@bazaar/lib/data/service.ts";
import { type Placed, placeOrder, type PurchaseStats } from "../purchase.ts";

/** The item as a purchase left it, as the cache stores it. */
const itemAfter = (p: Placed) => ({
  id: p.item_id!,
  version: Number(p.item_version),
  json: JSON.stringify({ name: p.name, quantity: Number(p.item_quantity), price: Number(p.item_price) }),
});

export const orders = (
  { db, cache, redis, purchases }: ServiceDeps & { redis: CatalogCache; purchases?: PurchaseStats },
) =>
  new Hono<HonoEnv>()
    // The purchase is one call of the place_order procedure: check, decrement and
    // record in one transaction, or change nothing. The read API's account can do
    // no other write.
    .post("/", ...jsonBody(OrderRequest), async (c) => {
      const { name, quantity, price } = c.req.valid("json");
      // The request id (HAProxy's, passed on by web) makes a retried purchase find
      // its order rather than place a second one.
      // Within a budget that ends before web's deadline, answering 503 only when
      // nothing was bought (../purchase.ts).
      const key = nameKey(name);
      const placed = await placeOrder(db, key, quantity, c.get("requestId"), price, { stats: purchases });
      if (!placed || placed.outcome === "not_found") fail(404, "product not found");
      if (placed.outcome === "price_changed") {
        const now = Number(placed.item_price).toFixed(2);
        fail(409, `the price changed to ${now}`, { price: `is ${now} now` });
      }
      if (placed.outcome === "insufficient") fail(409, "not enough stock");
      // The item's entry in Redis made current before the answer (in place, never
      // older: lib/src/data/catalog-cache.ts PURCHASED), or the relay's bound waited out;
      // and whatever Redis held under this order's number (from before a restore of
      // the database) gone.
      await directOrRelayed(
        () => redis.purchased(stemOf(key), itemAfter(placed), Number(placed.order_number)),
        redis.feed,
      );
      return c.json({
        data: {
          order_number: Number(placed.order_number),
          name: placed.name!,
          quantity: Number(placed.quantity),
          unit_price: Number(placed.unit_price),
        },
      });
    })
    // The order a request placed, by its request id: how a buyer told "outcome
    // unknown" finds out (web's GET /orders?request_id=…). Never cached: it may appear.
    .get("/", validate("query", RequestIdQuery), async (c) => {
      const order = await selectOrderByRequest(db, c.req.valid("query").request_id);
      if (!order) fail(404, "order not found");
      return c.json({ data: order });
    })
    .get("/:number", async (c) => {
      const number = v.safeParse(OrderNumber, c.req.param("number"));
      if (!number.success) fail(404, "order not found");
      // Orders never change, so they are cached by number; a missing one may appear any
      // moment, so it is not. Under the generation: a database restored from a backup
      // hands the same numbers out again, and the relay raises the generation when it
      // sees that (api/src/relay.ts), so no order outlives the database it came from.
      const seen = cache.enabled() ? await redis.readOrder(number.output).catch(() => undefined) : undefined;
      let order = seen?.json == null ? undefined : checkedText(Order, seen.json);
      if (order === undefined) {
        order = (await selectOrder(db, number.output)) ?? undefined;
        if (order && seen) await redis.fillOrder(seen, number.output, JSON.stringify(order));
      }
      if (!order) fail(404, "order not found");
      return c.json({ data: order });
    });
