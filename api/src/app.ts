// The read API: the catalogue (cached) and purchases. Only the web tier calls it.
import { Hono } from "hono";
import type { Log } from "@bazaar/lib/log.ts";
import { revalidator } from "@bazaar/lib/revalidate.ts";
import { createServiceApp } from "@bazaar/lib/service.ts";
import type { ApiDeps } from "./deps.ts";
import { items } from "./routes/items.ts";
import { orders } from "./routes/orders.ts";

export function createApp({ db, cache, token, log }: ApiDeps & { token: string; log?: Log }) {
  // The catalogue's coalesced version checks toward the database, counted on /healthz.
  const checks = revalidator();
  return createServiceApp(
    { service: "api", token, db, cache, log, checks },
    new Hono().route("/items", items({ db, cache, checks })).route("/orders", orders({ db, cache })),
  );
}

/** The api's routes with their bodies and answers, for web's typed client. */
export type ApiApp = ReturnType<typeof createApp>;
