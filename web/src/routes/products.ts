// GET /products/:name — the public JSON view of one item, with the catalogue's version
// as the ETag (a client that has it gets 304: ../catalog-reader.ts, lib/src/etag.ts).
import { Hono } from "hono";
import { conditional } from "@bazaar/lib/etag.ts";
import type { Item } from "@bazaar/lib/schemas.ts";
import { errorsAs, type WebDeps, type WebHonoEnv } from "../env.ts";

export const products = ({ catalog }: WebDeps) => {
  // An unchanged catalogue hands out the same item objects, so each body is made once.
  const bodies = new WeakMap<Item, string>();
  const bodyOf = (item: Item) => {
    let body = bodies.get(item);
    if (body === undefined) {
      body = JSON.stringify({ data: { name: item.name, price: item.price, quantity: item.quantity } });
      bodies.set(item, body);
    }
    return body;
  };
  return new Hono<WebHonoEnv>()
    .get("/:name", errorsAs("json"), async (c) => {
      const { etag, value: item } = await catalog.product(c, c.req.param("name"));
      return (etag && conditional(c, etag)) ||
        c.body(bodyOf(item), 200, { "Content-Type": "application/json" });
    });
};
