// The read API: the catalogue (from Redis, MySQL on a miss) and purchases. Only the web tier calls it.
import { Hono } from "hono";
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import type { Log } from "@bazaar/lib/log.ts";
import { createServiceApp, type ServiceDeps } from "@bazaar/lib/data/service.ts";
import { catalogReads } from "./catalog-reads.ts";
import type { Relay } from "./relay.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";
import { purchaseStats } from "./purchase.ts";

export function createApp(
  { db, cache, token, log, relay }: ServiceDeps & { token: string; log?: Log; relay?: Relay },
) {
  const redis = catalogCache(cache);
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
      counts: () => ({ catalog: catalog.stats(), relay: relay?.stats(), purchases: { ...purchases } }),
    },
    new Hono().route("/items", items({ catalog })).route("/orders", orders({ db, cache, redis, purchases })),
  );
}

/** The api's routes with their bodies and answers, for web's typed client. */
export type ApiApp = ReturnType<typeof createApp>;
