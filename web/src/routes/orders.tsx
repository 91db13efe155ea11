/** @jsxImportSource hono/jsx */
// POST /orders (JSON purchase), GET /orders/:number (JSON, or the order's page for
// browsers) and GET /orders?number=N (the storefront's lookup box). Numbers here are
// public ones, from 0 (../api.ts converts to and from the api's database keys).
import { Hono } from "hono";
import * as v from "valibot";
import { fail, jsonBody } from "@bazaar/lib/http.ts";
import { PublicOrderNumber } from "@bazaar/lib/order-number.ts";
import { OrderRequest } from "@bazaar/lib/schemas.ts";
import { renderPage } from "@bazaar/lib/ui/layout.tsx";
import { prefersHtml } from "@bazaar/lib/ui/http.ts";
import { order, placeOrder } from "../api.ts";
import { errorsAs, type WebDeps, type WebEnv } from "../env.ts";
import { OrderPage } from "../pages.tsx";

export const orders = ({ api, identity, site }: WebDeps) =>
  new Hono<WebEnv>()
    .post(
      "/",
      errorsAs("json"),
      ...jsonBody(OrderRequest),
      async (c) => {
        const placed = await placeOrder(api, c, c.req.valid("json"));
        return c.json({ data: { order_number: placed.order_number } });
      },
    )
    // The storefront's lookup box (a page for browsers, the error shape for programs).
    .get("/", (c) => {
      const number = v.safeParse(PublicOrderNumber, (c.req.query("number") ?? "").trim());
      if (!number.success) fail(404, "order not found — please check the number on your receipt");
      return c.redirect(`/orders/${number.output}`, 303);
    })
    .get("/:number", async (c) => {
      c.header("Vary", "Accept");
      const html = prefersHtml(c.req.header("accept"));
      c.set("errorFormat", html ? "html" : "json");
      // A malformed number is the caller's mistake (400 naming it); a well-formed one
      // that does not exist is 404.
      const number = v.safeParse(PublicOrderNumber, c.req.param("number"));
      if (!number.success) {
        const reason = number.issues[0].message;
        fail(400, `number: ${reason}`, { number: reason });
      }
      const found = await order(api, c, number.output);
      if (html) return renderPage(c, 200, <OrderPage identity={identity} site={site} order={found} />);
      return c.json({ data: { number: found.number, name: found.name, quantity: found.quantity } });
    });
