/** @jsxImportSource hono/jsx */
// The orders, newest first, a page at a time: /admin/orders?page=N.
import { Hono } from "hono";
import { validate } from "@bazaar/lib/http.ts";
import { Paging } from "@bazaar/lib/schemas.ts";
import { renderPage } from "@bazaar/lib/ui/layout.tsx";
import { listOrders } from "../admin-api-client.ts";
import type { AdminDeps, AdminHonoEnv } from "../env.ts";
import { OrdersPage } from "../pages/orders.tsx";

export const PER_PAGE = 20;

export const orders = ({ adminApi, identity, site }: AdminDeps) =>
  new Hono<AdminHonoEnv>().get("/", validate("query", Paging), async (c) => {
    const { page } = c.req.valid("query");
    const data = await listOrders(adminApi, c, page, PER_PAGE);
    return renderPage(
      c,
      200,
      <OrdersPage identity={identity} site={site} session={c.get("session")} data={data} />,
    );
  });
