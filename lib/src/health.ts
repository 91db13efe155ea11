// /healthz (the process is up) for every app, and /readyz (what it depends on) for both APIs.
import { type Context, Hono } from "hono";
import type { Db } from "./db.ts";
import type { Cache } from "./cache.ts";

/** The answer to /healthz: the process is up and serving. */
export const alive = (c: Context) => c.json({ data: { status: "ok" } });

export const health = ({ db, cache }: { db: Db; cache: Cache }) =>
  new Hono()
    .get("/healthz", alive)
    .get("/readyz", async (c) => {
      const [database, cacheStatus] = await Promise.all([db.ping(), cache.status()]);
      const body = { data: { database: database ? "up" : "down", cache: cacheStatus } };
      // The database is required; the cache is not (reads fall back to MySQL).
      return c.json(body, database ? 200 : 503);
    });
