import { Hono } from "hono";
import * as v from "valibot";
import { affectedBy, nameKey } from "@bazaar/lib/catalog.ts";
import { retryOnConflict } from "@bazaar/lib/db.ts";
import { fail, jsonBody } from "@bazaar/lib/http.ts";
import { orderEntry, selectOrder } from "@bazaar/lib/orders.ts";
import { Order, OrderNumber, OrderRequest } from "@bazaar/lib/schemas.ts";
import type { ApiDeps } from "../app.ts";

type Placed = { outcome: "ok" | "not_found" | "insufficient"; order_number: number | null; name: string | null; quantity: number | null; unit_price: number | null };

// Made once: checked cache texts are remembered per schema object.
const MaybeOrder = v.nullable(Order);

export const orders = ({ db, cache }: ApiDeps) =>
  new Hono()
    // The purchase is one call of the place_order procedure: check, decrement and
    // record in one transaction, or change nothing. The read API's account can do
    // no other write.
    .post("/", ...jsonBody(OrderRequest), async (c) => {
      const { name, quantity } = c.req.valid("json");
      // The request id (HAProxy's, passed on by web) makes a retried purchase find
      // its order rather than place a second one.
      const requestId = c.get("requestId" as never) as string | undefined;
      const [rows] = await retryOnConflict(() => db.query<Placed[]>("CALL place_order(?, ?, ?)", [nameKey(name), quantity, requestId ?? null]));
      const placed = rows?.[0];
      if (!placed || placed.outcome === "not_found") fail(404, "product not found");
      if (placed.outcome === "insufficient") fail(409, "not enough stock");
      // Cleared before the answer: once the buyer hears "ok", every read sees the new stock.
      await cache.clear(...affectedBy(placed.name!));
      return c.json({
        data: { order_number: Number(placed.order_number), name: placed.name!, quantity: Number(placed.quantity), unit_price: Number(placed.unit_price) },
      });
    })
    .get("/:number", async (c) => {
      const number = v.safeParse(OrderNumber, c.req.param("number"));
      // Orders never change, so they are cached; a missing one may appear any moment, so it is not.
      const order = number.success
        ? await cache.read(orderEntry(number.output), MaybeOrder, () => selectOrder(db, number.output), { cacheNull: false })
        : null;
      if (!order) fail(404, "order not found");
      return c.json({ data: order });
    });
