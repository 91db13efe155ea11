import { Hono } from "hono";
import * as v from "valibot";
import { nameKey } from "@bazaar/lib/catalog.ts";
import { fail, jsonBody, validate } from "@bazaar/lib/http.ts";
import { orderEntry, selectOrder, selectOrderByRequest } from "@bazaar/lib/orders.ts";
import type { AppEnv } from "@bazaar/lib/log.ts";
import { Order, OrderNumber, OrderRequest, RequestIdQuery } from "@bazaar/lib/schemas.ts";
import type { ApiDeps } from "../deps.ts";
import { placeOrder } from "../purchase.ts";

// Made once: checked cache texts are remembered per schema object.
const MaybeOrder = v.nullable(Order);

export const orders = ({ db, cache }: ApiDeps) =>
  new Hono<AppEnv>()
    // The purchase is one call of the place_order procedure: check, decrement and
    // record in one transaction, or change nothing. The read API's account can do
    // no other write.
    .post("/", ...jsonBody(OrderRequest), async (c) => {
      const { name, quantity } = c.req.valid("json");
      // The request id (HAProxy's, passed on by web) makes a retried purchase find
      // its order rather than place a second one.
      // Within a budget that ends before web's deadline, answering 503 only when
      // nothing was bought (../purchase.ts).
      const placed = await placeOrder(db, nameKey(name), quantity, c.get("requestId"));
      if (!placed || placed.outcome === "not_found") fail(404, "product not found");
      if (placed.outcome === "insufficient") fail(409, "not enough stock");
      // Nothing to clear: the purchase raised the item's version (db/init.sql), and
      // every read revalidates against the database's version.
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
      // Orders never change, so they are cached; a missing one may appear any moment, so it is not.
      const order = number.success
        ? await cache.read(orderEntry(number.output), MaybeOrder, () => selectOrder(db, number.output), {
          cacheNull: false,
        })
        : null;
      if (!order) fail(404, "order not found");
      return c.json({ data: order });
    });
