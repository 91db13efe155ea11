// The app both internal APIs are (api, admin-api), around their own routes: request
// ids and the request log, /healthz and /readyz without a token, the Bearer check
// before every other route, and the one error shape.
import { Hono } from "hono";
import type { Env, Schema } from "hono";
import type { HonoBase } from "hono/hono-base";
import { serviceAuth } from "../auth.ts";
import type { Cache } from "./cache.ts";
import type { Db } from "./db.ts";
import { type Counts, healthz } from "../health.ts";
import { handleErrors } from "../http.ts";
import { type HonoEnv, type Log, logRequests, withRequestId } from "../log.ts";

/** What an internal API is built on: its MySQL pool and its cache. */
export type ServiceDeps = { db: Db; cache: Cache };

export type ServiceOptions = ServiceDeps & {
  /** The service's name in its log lines. */
  service: string;
  /** The Bearer token its callers present. */
  token: string;
  log?: Log;
  /** What /healthz reports beside its status (the bench's figures). */
  counts?: Counts;
  /** Requests left out of the log once answered (lib/src/log.ts logRequests). */
  quiet?: Parameters<typeof logRequests>[2];
};

/** /healthz, and /readyz: 503 while the database is down (the cache is not required). */
const health = ({ db, cache, counts }: { db: Db; cache: Cache; counts?: Counts }) =>
  new Hono()
    .get("/healthz", healthz(counts))
    .get("/readyz", async (c) => {
      const [database, cacheStatus] = await Promise.all([db.ping(), cache.status()]);
      const body = { data: { database: database ? "up" : "down", cache: cacheStatus } };
      // The database is required; the cache is not (reads fall back to MySQL).
      return c.json(body, database ? 200 : 503);
    });

/**
 * The service app with `routes` mounted at its root. Its type keeps the routes'
 * (paths, bodies, answers), so `typeof` the result types the callers' hc client.
 */
// HonoBase, not Hono: it is what `.route()` returns, so a chain of `.route()`s matches.
export const createServiceApp = <RE extends Env, S extends Schema, B extends string, P extends string>(
  { service, token, db, cache, log, counts, quiet }: ServiceOptions,
  routes: HonoBase<RE, S, B, P>,
) =>
  handleErrors(
    new Hono<HonoEnv>()
      .use(withRequestId(), logRequests(service, log, quiet))
      .route("/", health({ db, cache, counts }))
      .use(serviceAuth(token))
      .route("/", routes),
    { log },
  );
