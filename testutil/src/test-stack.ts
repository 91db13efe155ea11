// The real database and cache of the test stack (started on demand by importing
// tests/system/stack.ts, or the one STORE_URL points at), as the apps' own config,
// for integration tests that call lib/ or an app's modules directly.
import { createCache } from "@bazaar/lib/data/cache.ts";
import { createDb, type Db } from "@bazaar/lib/data/db.ts";

const env = (name: string) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: import tests/system/stack.ts first (importing it starts the test stack)`,
    );
  }
  return value;
};

export const dbConfig = (account: "api" | "admin") => ({
  DB_HOST: process.env.DB_HOST ?? "127.0.0.1",
  DB_PORT: Number(env("DB_PORT")),
  DB_NAME: "bazaar",
  DB_USER: account === "api" ? "bazaar_api" : "bazaar_admin",
  DB_PASSWORD: env(account === "api" ? "API_DB_PASSWORD" : "ADMIN_DB_PASSWORD"),
  DB_POOL_SIZE: 8,
});

export const cacheConfig = () => ({
  UPSTASH_REDIS_REST_URL: env("UPSTASH_REDIS_REST_URL"),
  UPSTASH_REDIS_REST_TOKEN: env("UPSTASH_REDIS_REST_TOKEN"),
  CACHE_TTL_SECONDS: 300,
  CACHE_TIMEOUT_MS: 500,
});

export const testCache = () => createCache(cacheConfig(), { log: () => {} });

/** A real pool that counts the statements it runs (to prove a cache hit skips MySQL). */
export function countingDb(account: "api" | "admin") {
  const db = createDb(dbConfig(account));
  const counter = { statements: 0 };
  const counted: Db = {
    ...db,
    query: (sql, params) => (counter.statements++, db.query(sql, params)),
    execute: (sql, params) => (counter.statements++, db.execute(sql, params)),
  };
  return { db: counted, counter };
}

/** A name no other test uses, so tests can run against a shared stack. */
export const uniqueName = (base: string) =>
  `${base} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
