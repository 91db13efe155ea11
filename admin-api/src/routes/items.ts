import { Hono } from "hono";
import * as v from "valibot";
import type { CatalogCache } from "@bazaar/lib/catalog-cache.ts";
import { nameKey, selectItemsByKey, selectPage } from "@bazaar/lib/catalog.ts";
import { fail, jsonBody, validate } from "@bazaar/lib/http.ts";
import { AddItem, CatalogQuery, CorrectItem, ItemName } from "@bazaar/lib/schemas.ts";
import type { AdminApiDeps } from "../deps.ts";
import { addItem, correctItem, deleteItem, inventorySummary } from "../catalog.ts";
import { clearAfterWrite as cleared } from "../clear.ts";

const itemName = (raw: string) => {
  const name = v.safeParse(ItemName, raw);
  if (!name.success) fail(404, "item not found");
  return name.output;
};

export const items = ({ db, redis }: AdminApiDeps & { redis: CatalogCache }) =>
  new Hono()
    // The inventory, a page at a time, straight from the database (never the cache).
    .get("/", validate("query", CatalogQuery), async (c) => {
      const query = c.req.valid("query");
      const list = await selectPage(db, { page: query.page, perPage: query.per_page, q: nameKey(query.q) });
      const rows = await selectItemsByKey(db, list.keys);
      const items = list.keys.flatMap((k) => rows.get(k)?.item ?? []);
      const summary = await inventorySummary(db);
      return c.json({
        data: { items, page: query.page, per_page: query.per_page, total: list.total, q: query.q, summary },
      });
    })
    .get("/:name", async (c) => {
      const key = nameKey(itemName(c.req.param("name")));
      const found = (await selectItemsByKey(db, [key])).get(key);
      if (!found) fail(404, "item not found");
      return c.json({ data: found.item });
    })
    .post("/", ...jsonBody(AddItem), async (c) => {
      const { added, listFloor } = await addItem(db, c.req.valid("json"));
      const cache = await cleared(redis, [added.item.name], listFloor);
      return c.json({ data: { ...added, cache } }, added.action === "inserted" ? 201 : 200);
    })
    .patch("/:name", ...jsonBody(CorrectItem), async (c) => {
      const item = await correctItem(db, itemName(c.req.param("name")), c.req.valid("json"));
      return c.json({ data: { item, cache: await cleared(redis, [item.name]) } });
    })
    .delete("/:name", async (c) => {
      const { item, listFloor } = await deleteItem(db, itemName(c.req.param("name")));
      return c.json({ data: { item, cache: await cleared(redis, [item.name], listFloor) } });
    });
