/** @jsxImportSource hono/jsx */
// POST /orders (JSON purchase), GET /orders/:number (JSON, or the order's page for
// browsers) and GET /orders?number=N (the storefront's lookup box). Numbers here are
// public ones, from 0 (../api-client.ts converts to and from the api's database keys).
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { fail, labJsonBody } from "@bazaar/lib/http.ts";
import { PublicOrderNumber } from "@bazaar/lib/order-number.ts";
import { OrderRequest, RequestIdQuery } from "@bazaar/lib/schemas.ts";
import { renderPage } from "@bazaar/lib/ui/layout.tsx";
import { prefersHtml } from "@bazaar/lib/ui/http.ts";
import { order, orderByRequest, placeOrder } from "../api-client.ts";
import { errorsAs, type WebDeps, type WebHonoEnv } from "../env.ts";
import { OrderPage } from "../pages.tsx";

export const orders = ({ api, purchases, identity, site }: WebDeps) =>
  new Hono<WebHonoEnv>()
    .post(
      "/",
      errorsAs("json"),
      ...labJsonBody(OrderRequest),
      async (c) => {
        const placed = await placeOrder(purchases, c, c.req.valid("json"));
        return c.json({ data: { order_number: placed.order_number } });
      },
    )
    // The storefront's lookup box (a page for browsers, the error shape for programs),
    // and ?request_id=…: the order a purchase placed, for a buyer whose purchase was
    // answered "not confirmed in time" (504, ../api-client.ts OutcomeUnknown).
    .get("/", async (c) => {
      const requestId = c.req.query("request_id");
      if (requestId !== undefined) {
        c.header("Vary", "Accept");
        const html = prefersHtml(c.req.header("accept"));
        c.set("errorFormat", html ? "html" : "json");
        const id = v.safeParse(RequestIdQuery, { request_id: requestId });
        if (!id.success) {
          const reason = id.issues[0].message;
          fail(400, `request_id: ${reason}`, { request_id: reason });
        }
        let found: Awaited<ReturnType<typeof orderByRequest>>;
        try {
          found = await orderByRequest(api, c, id.output.request_id);
        } catch (err) {
          if (err instanceof HTTPException && err.status === 404) {
            fail(404, "no order has been placed by that request");
          }
          throw err;
        }
        if (html) {
          return c.redirect(`/orders/${found.number}`, 303);
        }
        return c.json({ data: { number: found.number, name: found.name, quantity: found.quantity } });
      }
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
