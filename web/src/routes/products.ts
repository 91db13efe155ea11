// GET /products/:name — the public JSON view of one item.
import { Hono } from "hono";
import { product } from "../api.ts";
import { errorsAs, type WebDeps, type WebEnv } from "../env.ts";

export const products = ({ api }: WebDeps) =>
  new Hono<WebEnv>()
    .get("/:name", errorsAs("json"), async (c) => {
      const item = await product(api, c, c.req.param("name"));
      return c.json({ data: { name: item.name, price: item.price, quantity: item.quantity } });
    });
