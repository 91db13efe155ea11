// The admin API: writes to the catalogue and the list of orders. Only the admin site calls it.
import { Hono } from "hono";
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import type { Log } from "@bazaar/lib/log.ts";
import { createServiceApp, type ServiceDeps } from "@bazaar/lib/data/service.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";
import { sessions } from "./routes/sessions.ts";
import { signInLimiter } from "./logins.ts";
import { sessionStore } from "./sessions.ts";

export function createApp({ db, cache, token, log }: ServiceDeps & { token: string; log?: Log }) {
  return createServiceApp(
    { service: "admin-api", token, db, cache, log },
    new Hono()
      .route("/items", items({ db, cache, redis: catalogCache(cache) }))
      .route("/orders", orders({ db, cache }))
      .route("/sessions", sessions({ store: sessionStore({ kv: cache.kv }), limiter: signInLimiter() })),
  );
}

/** admin-api's routes with their bodies and answers, for the admin site's typed client. */
export type AdminApiApp = ReturnType<typeof createApp>;
