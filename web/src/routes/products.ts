// GET /products/:name — the public JSON view of one item, with its version as the
// ETag (a client that has it gets 304: ../catalog.ts, lib/src/etag.ts).
import { Hono } from "hono";
import { conditional } from "@bazaar/lib/etag.ts";
import { errorsAs, type WebDeps, type WebEnv } from "../env.ts";

export const products = ({ catalog }: WebDeps) =>
  new Hono<WebEnv>()
    .get("/:name", errorsAs("json"), async (c) => {
      const { etag, value: item } = await catalog.product(c, c.req.param("name"));
      return (etag && conditional(c, etag)) ||
        c.json({ data: { name: item.name, price: item.price, quantity: item.quantity } });
    });
