// The admin API: writes to the catalogue and the list of orders. Only the admin site calls it.
import { Hono } from "hono";
import { serviceAuth } from "@bazaar/lib/auth.ts";
import type { Cache } from "@bazaar/lib/cache.ts";
import type { Db } from "@bazaar/lib/db.ts";
import { health } from "@bazaar/lib/health.ts";
import { handleErrors } from "@bazaar/lib/http.ts";
import { type Log, logRequests, withRequestId } from "@bazaar/lib/log.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";
import { sessions } from "./routes/sessions.ts";
import { signInLimiter } from "./logins.ts";
import { sessionStore } from "./sessions.ts";

export type AdminApiDeps = { db: Db; cache: Cache };

export function createApp({ db, cache, token, log }: AdminApiDeps & { token: string; log?: Log }) {
  const app = new Hono()
    .use(withRequestId(), logRequests("admin-api", log))
    .route("/", health({ db, cache }))
    .use(serviceAuth(token))
    .route("/items", items({ db, cache }))
    .route("/orders", orders({ db, cache }))
    .route("/sessions", sessions({ store: sessionStore({ kv: cache.kv }), limiter: signInLimiter() }));
  return handleErrors(app, { log });
}

export type AdminApiApp = ReturnType<typeof createApp>;
