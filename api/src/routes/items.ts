import { Hono } from "hono";
import * as v from "valibot";
import { catalogEntries, selectItem, selectItems } from "@bazaar/lib/catalog.ts";
import { fail } from "@bazaar/lib/http.ts";
import { Item, ItemList, ItemName } from "@bazaar/lib/schemas.ts";
import type { ApiDeps } from "../deps.ts";

// Made once: checked cache texts are remembered per schema object.
const MaybeItem = v.nullable(Item);

export const items = ({ db, cache }: ApiDeps) =>
  new Hono()
    .get("/", async (c) =>
      c.json({ data: await cache.read(catalogEntries.list, ItemList, () => selectItems(db)) }))
    .get("/:name", async (c) => {
      // A name no item can have is simply not found.
      const name = v.safeParse(ItemName, c.req.param("name"));
      const item = name.success
        ? await cache.read(catalogEntries.item(name.output), MaybeItem, () =>
          selectItem(db, name.output))
        : null;
      if (!item) fail(404, "product not found");
      return c.json({ data: item });
    });
