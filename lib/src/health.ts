// /healthz (the process is up) for every app, and /readyz (what it depends on) for both APIs.
import { type Context, Hono } from "hono";
import type { Db } from "./db.ts";
import type { Cache } from "./cache.ts";

/** What a tier counts of its own work, reported on /healthz (the bench reads them). */
export type Counts = () => Record<string, unknown>;

/** The answer to /healthz: the process is up and serving; with `counts`, what it counted too. */
export const healthz = (counts?: Counts) => (c: Context) => c.json({ data: { status: "ok", ...counts?.() } });
export const alive = healthz();

export const health = ({ db, cache, counts }: { db: Db; cache: Cache; counts?: Counts }) =>
  new Hono()
    .get("/healthz", healthz(counts))
    .get("/readyz", async (c) => {
      const [database, cacheStatus] = await Promise.all([db.ping(), cache.status()]);
      const body = { data: { database: database ? "up" : "down", cache: cacheStatus } };
      // The database is required; the cache is not (reads fall back to MySQL).
      return c.json(body, database ? 200 : 503);
    });
