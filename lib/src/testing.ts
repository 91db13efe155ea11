// For tests. Integration tests: the real database and cache of the test stack
// (started on demand by importing tests/system/stack.ts, or the one STORE_URL points
// at), as the apps' own config. Unit tests of a typed client: a target that records
// what the client sends, and the fetch of an in-memory stand-in for an upstream API.
import { createCache } from "./data/cache.ts";
import { createDb, type Db } from "./data/db.ts";

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

/** A service target whose fetch records each request (method, path with query, body) and answers `{"data":null}`. */
export function recordingTarget(url: string) {
  const sent: { method: string; path: string; body: string }[] = [];
  const target = {
    url,
    token: "t",
    timeoutMs: 100,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      const { pathname, search } = new URL(req.url);
      sent.push({ method: req.method, path: pathname + search, body: await req.text() });
      return Response.json({ data: null });
    },
  };
  return { target, sent };
}

/** What a stand-in upstream is doing: answering, refusing connections, hanging, or failing with 500. */
export type UpstreamMode = "ok" | "down" | "hang" | "error500";

/**
 * The fetch of an in-memory stand-in for an upstream API (web/src/fake-api.ts,
 * admin/src/fake-admin-api.ts): records each request in `state.seen`, fails as
 * `state.mode` says, refuses a wrong Bearer token with 401, else asks `app`.
 */
export const fakeUpstreamFetch = (
  app: { fetch: (req: Request) => Response | Promise<Response> },
  token: string,
  state: { mode: UpstreamMode; seen: Request[] },
) =>
async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const req = new Request(input, init);
  // A copy: the app reads the body of the one it is given.
  state.seen.push(req.clone());
  if (state.mode === "down") throw new TypeError("fetch failed: connection refused");
  if (state.mode === "hang") {
    return new Promise<Response>((_, reject) => {
      const signal = init?.signal;
      signal?.addEventListener("abort", () => reject(signal.reason));
    });
  }
  if (state.mode === "error500") {
    return Response.json({ error: { code: 500, message: "internal error" } }, { status: 500 });
  }
  if (req.headers.get("authorization") !== `Bearer ${token}`) {
    return Response.json({ error: { code: 401, message: "unauthorized" } }, { status: 401 });
  }
  return app.fetch(req);
};
