// The read API: the catalogue (cached) and purchases. Only the web tier calls it.
import { Hono } from "hono";
import { serviceAuth } from "@bazaar/lib/auth.ts";
import type { Cache } from "@bazaar/lib/cache.ts";
import type { Db } from "@bazaar/lib/db.ts";
import { health } from "@bazaar/lib/health.ts";
import { handleErrors } from "@bazaar/lib/http.ts";
import { type Log, logRequests, withRequestId } from "@bazaar/lib/log.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";

export type ApiDeps = { db: Db; cache: Cache };

export function createApp({ db, cache, token, log }: ApiDeps & { token: string; log?: Log }) {
  const app = new Hono()
    .use(withRequestId(), logRequests("api", log))
    .route("/", health({ db, cache }))
    .use(serviceAuth(token))
    .route("/items", items({ db, cache }))
    .route("/orders", orders({ db, cache }));
  return handleErrors(app, { log });
}

export type ApiApp = ReturnType<typeof createApp>;
