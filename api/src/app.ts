// The read API: the catalogue (from Redis, MySQL on a miss) and purchases. Only the web tier calls it.
import { Hono } from "hono";
import { type CatalogCache, catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import type { Log } from "@bazaar/lib/log.ts";
import { createServiceApp, type ServiceDeps } from "@bazaar/lib/data/service.ts";
import { catalogReads } from "./catalog-reads.ts";
import { type FeedHub, feedHub } from "./feed-hub.ts";
import type { Relay } from "./relay.ts";
import { feed } from "./routes/feed.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";
import { purchaseStats } from "./purchase.ts";

export function createApp(
  { db, cache, token, log, relay, redis = catalogCache(cache), hub }: ServiceDeps & {
    token: string;
    log?: Log;
    relay?: Relay;
    /** The catalogue in Redis, and the hub of web servers' streams on its feed (server.ts ends them when draining). */
    redis?: CatalogCache;
    hub?: FeedHub;
  },
) {
  const streams = hub ?? feedHub(redis.feed);
  const catalog = catalogReads({ db, cache, redis });
  const purchases = purchaseStats();
  return createServiceApp(
    // What the bench reads: the catalogue's hits and MySQL statements, the relay's work,
    // and the purchases' retries (the failover test reads those).
    {
      service: "api",
      token,
      db,
      cache,
      log,
      counts: () => ({
        catalog: catalog.stats(),
        relay: relay?.stats(),
        purchases: { ...purchases },
        feed: { ...redis.feed.stats(), ...streams.stats() },
      }),
      // Each web server renews several times a second: only a renewal that failed is logged.
      quiet: (c) => c.req.path === "/feed/grant" && c.res.status === 200,
    },
    new Hono()
      .route("/items", items({ catalog }))
      .route("/feed", feed({ hub: streams, feed: redis.feed, grantable: () => cache.enabled() }))
      .route("/orders", orders({ db, cache, redis, purchases })),
  );
}

/** The api's routes with their bodies and answers, for web's typed client. */
export type ApiApp = ReturnType<typeof createApp>;
