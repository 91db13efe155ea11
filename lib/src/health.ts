// /healthz (the process is up) for every app, and /readyz (what it depends on) for both APIs.
import { type Context, Hono } from "hono";
import type { Db } from "./db.ts";
import type { Cache } from "./cache.ts";
import type { Revalidator } from "./revalidate.ts";

/** The answer to /healthz: the process is up and serving; with `checks`, their counts too (the bench's batching factor). */
export const healthz = (checks?: Revalidator) => (c: Context) =>
  c.json({ data: checks ? { status: "ok", revalidation: checks.stats() } : { status: "ok" } });
export const alive = healthz();

export const health = ({ db, cache, checks }: { db: Db; cache: Cache; checks?: Revalidator }) =>
  new Hono()
    .get("/healthz", healthz(checks))
    .get("/readyz", async (c) => {
      const [database, cacheStatus] = await Promise.all([db.ping(), cache.status()]);
      const body = { data: { database: database ? "up" : "down", cache: cacheStatus } };
      // The database is required; the cache is not (reads fall back to MySQL).
      return c.json(body, database ? 200 : 503);
    });
