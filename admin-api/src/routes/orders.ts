import { Hono } from "hono";
import { validate } from "@bazaar/lib/http.ts";
import { selectOrders } from "@bazaar/lib/data/orders.ts";
import { Paging } from "@bazaar/lib/schemas.ts";
import type { ServiceDeps } from "@bazaar/lib/data/service.ts";

export const orders = ({ db }: ServiceDeps) =>
  new Hono().get("/", validate("query", Paging), async (c) => {
    const { page, per_page } = c.req.valid("query");
    return c.json({ data: await selectOrders(db, page, per_page) });
  });
