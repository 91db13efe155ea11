import { Hono } from "hono";
import * as v from "valibot";
import { selectItems } from "@bazaar/lib/catalog.ts";
import { fail, jsonBody } from "@bazaar/lib/http.ts";
import { AddItem, CorrectItem, ItemName } from "@bazaar/lib/schemas.ts";
import type { AdminApiDeps } from "../deps.ts";
import { addItem, correctItem, deleteItem } from "../catalog.ts";

const itemName = (raw: string) => {
  const name = v.safeParse(ItemName, raw);
  if (!name.success) fail(404, "item not found");
  return name.output;
};

// No write clears the cache: every write raises the database's versions (db/init.sql's
// triggers), which every read revalidates against, so a write that could not reach
// the cache hides nothing (docs/design.md, Cache).
export const items = ({ db }: AdminApiDeps) =>
  new Hono()
    .get("/", async (c) => c.json({ data: await selectItems(db) }))
    .post("/", ...jsonBody(AddItem), async (c) => {
      const result = await addItem(db, c.req.valid("json"));
      return c.json({ data: result }, result.action === "inserted" ? 201 : 200);
    })
    .patch("/:name", ...jsonBody(CorrectItem), async (c) => {
      const item = await correctItem(db, itemName(c.req.param("name")), c.req.valid("json"));
      return c.json({ data: item });
    })
    .delete("/:name", async (c) => {
      const item = await deleteItem(db, itemName(c.req.param("name")));
      return c.json({ data: item });
    });
