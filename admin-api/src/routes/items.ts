import { Hono } from "hono";
import * as v from "valibot";
import type { CatalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import { nameKey, selectItemsByKey, selectPage } from "@bazaar/lib/data/catalog-db.ts";
import { fail, jsonBody, validate } from "@bazaar/lib/http.ts";
import { AddItem, CatalogQuery, CorrectItem, ItemName, WriteHeaders } from "@bazaar/lib/schemas.ts";
import type { ServiceDeps } from "@bazaar/lib/data/service.ts";
import { addItem, correctItem, deleteItem, inventorySummary } from "../catalog-writes.ts";
import { clearAfterWrite as cleared } from "../clear.ts";
import { once, writeRequest } from "../once.ts";

const itemName = (raw: string) => {
  const name = v.safeParse(ItemName, raw);
  if (!name.success) fail(404, "item not found");
  return name.output;
};

export const items = ({ db, redis }: ServiceDeps & { redis: CatalogCache }) =>
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
    // Each write: made once (with its Idempotency-Key), then the cache cleared — again
    // for a replay, whose first answer may never have got as far.
    .post("/", validate("header", WriteHeaders), ...jsonBody(AddItem), async (c) => {
      const body = c.req.valid("json");
      const write = writeRequest(c.req.valid("header")["idempotency-key"], "POST /items", body);
      const { value: { added, listFloor }, replayed } = await once(db, write, (conn) => addItem(conn, body));
      const cache = await cleared(redis, [added.item.name], listFloor);
      return c.json({ data: { ...added, cache, replayed } }, added.action === "inserted" ? 201 : 200);
    })
    .patch("/:name", validate("header", WriteHeaders), ...jsonBody(CorrectItem), async (c) => {
      const name = itemName(c.req.param("name"));
      const body = c.req.valid("json");
      const write = writeRequest(c.req.valid("header")["idempotency-key"], `PATCH /items/${name}`, body);
      const { value: { item }, replayed } = await once(db, write, (conn) => correctItem(conn, name, body));
      return c.json({ data: { item, cache: await cleared(redis, [item.name]), replayed } });
    })
    .delete("/:name", validate("header", WriteHeaders), async (c) => {
      const name = itemName(c.req.param("name"));
      const write = writeRequest(c.req.valid("header")["idempotency-key"], `DELETE /items/${name}`, null);
      const { value: { item, listFloor }, replayed } = await once(
        db,
        write,
        (conn) => deleteItem(conn, name),
      );
      return c.json({ data: { item, cache: await cleared(redis, [item.name], listFloor), replayed } });
    });
