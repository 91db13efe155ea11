import { Hono } from "hono";
import * as v from "valibot";
import { catalogVersion, nameKey, selectItems, selectItemVersioned } from "@bazaar/lib/catalog.ts";
import { conditional, etagOf } from "@bazaar/lib/etag.ts";
import { fail } from "@bazaar/lib/http.ts";
import { type Revalidator, revalidator } from "@bazaar/lib/revalidate.ts";
import { ItemName } from "@bazaar/lib/schemas.ts";
import type { ApiDeps } from "../deps.ts";

// Every answer carries the version the database had when a check that started after
// the request arrived read it (coalesced: one check answers every request that came
// while the one before was in flight, lib/src/revalidate.ts). A request that names
// that version in If-None-Match gets 304 and no body. The database is the only
// authority on versions, so no writer's lost cache clear can leave a reader an old
// value (docs/design.md, Cache).
export const items = ({ db, checks = revalidator() }: ApiDeps & { checks?: Revalidator }) =>
  new Hono()
    .get("/", async (c) => {
      const version = await checks.check("list", () => catalogVersion(db));
      const unchanged = conditional(c, etagOf(version));
      if (unchanged) return unchanged;
      // The list as of that version, or newer (never older), from MySQL. Not from
      // Redis, though an entry keyed by version could never be stale there: while
      // purchases go on every version is new, and a Redis miss and fill per change
      // cost more than the query (bun run bench: docs/performance-notes.md).
      return c.json({ data: await selectItems(db) });
    })
    .get("/:name", async (c) => {
      // A name no item can have is simply not found.
      const name = v.safeParse(ItemName, c.req.param("name"));
      if (!name.success) fail(404, "product not found");
      // The row itself is the check: reading its version costs what reading it does.
      const found = await checks.check(
        `item:${nameKey(name.output)}`,
        () => selectItemVersioned(db, name.output),
      );
      if (!found) fail(404, "product not found");
      return conditional(c, etagOf(found.version)) ?? c.json({ data: found.value });
    });
