import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { CatalogFeed } from "@bazaar/lib/data/feed.ts";
import { GRANT_MS } from "@bazaar/lib/grants.ts";
import { fail, jsonBody, Unavailable } from "@bazaar/lib/http.ts";
import { type GrantReply, GrantRequest } from "@bazaar/lib/schemas.ts";
import type { FeedHub } from "../feed-hub.ts";

// What lets a web server serve the catalogue from its memory (lib/src/data/feed.ts):
// a stream of the catalogue's changes, and the grant it renews — each renewal also
// saying how far it has applied the stream, which is what writers wait for.
export const feed = (
  { hub, feed, grantable }: { hub: FeedHub; feed: CatalogFeed; grantable: () => boolean },
) =>
  new Hono()
    .get("/changes", async (c) => {
      if (!(await hub.ready())) fail(503, "the change feed cannot be read now");
      return streamSSE(c, async (stream) => {
        let ended!: () => void;
        const done = new Promise<void>((resolve) => (ended = resolve));
        const leave = await hub.join((event) => {
          void (event === "heartbeat"
            ? stream.writeSSE({ event: "ping", data: "" })
            : stream.writeSSE({ data: JSON.stringify(event) })).catch(ended);
        }, ended);
        stream.onAbort(ended);
        await done;
        leave();
      });
    })
    .post("/grant", ...jsonBody(GrantRequest), async (c) => {
      const { web, feed: id, applied, release } = c.req.valid("json");
      let renewed;
      try {
        renewed = await feed.renew(web, id, applied, { grantable: grantable(), release });
      } catch (err) {
        // Redis away: no grant (the web server asks the api on every read meanwhile).
        throw new Unavailable("the change feed", err);
      }
      const data: GrantReply = { ...renewed, ms: GRANT_MS };
      return c.json({ data });
    });
