import { Hono } from "hono";
import { conditional } from "@bazaar/lib/etag.ts";
import { fail, jsonBody, validate } from "@bazaar/lib/http.ts";
import { CatalogCheck, type CatalogCheckReply, CatalogQuery } from "@bazaar/lib/schemas.ts";
import type { CatalogReads } from "../catalog-reads.ts";

// Every answer comes from Redis, or from MySQL on a miss (../catalog-reads.ts), with
// its ETag: an item's id and version, a page's digest of its items' versions. A
// request that names the current ETag in If-None-Match gets 304 and no body;
// POST /check does the same for many entries at once (web's coalesced check).
export const items = ({ catalog }: { catalog: CatalogReads }) =>
  new Hono()
    .get("/", validate("query", CatalogQuery), async (c) => {
      const { pages: [answer] } = await catalog.read([], [c.req.valid("query")]);
      return conditional(c, answer!.etag) ?? c.json({ data: answer!.page });
    })
    .post("/check", ...jsonBody(CatalogCheck), async (c) => {
      const ask = c.req.valid("json");
      const found = await catalog.read(ask.items.map((i) => i.name), ask.pages);
      const data: CatalogCheckReply = {
        items: found.items.map((a, i) =>
          !a
            ? { missing: true as const }
            : a.etag === ask.items[i]!.etag
            ? { etag: a.etag, unchanged: true as const }
            : { etag: a.etag, value: a.item }
        ),
        pages: found.pages.map((a, i) =>
          a.etag === ask.pages[i]!.etag
            ? { etag: a.etag, unchanged: true as const }
            : { etag: a.etag, value: a.page }
        ),
      };
      return c.json({ data });
    })
    .get("/:name", async (c) => {
      const { items: [answer] } = await catalog.read([c.req.param("name")], []);
      if (!answer) fail(404, "product not found");
      return conditional(c, answer.etag) ?? c.json({ data: answer.item });
    });
