// The api and admin-api in-process, against a real MariaDB and nothing else (modelled
// on Unkey's apps/api/src/pkg/testutil/route-harness.ts): a request goes straight to
// the app's fetch, no server, no proxy, no Redis. One throwaway MariaDB serves the
// whole test run (./throwaway-db.ts, stopped after the last file: ./run-end.ts);
// each test puts the catalogue back with reset(). The cache is off (./cache-off.ts):
// every read is the SQL's.
import mysql from "mysql2/promise";
import { createApp as createApi } from "@bazaar/api/src/app.ts";
import { createApp as createAdminApi } from "@bazaar/admin-api/src/app.ts";
import { createDb, type Db } from "@bazaar/lib/data/db.ts";
import { nameKey } from "@bazaar/lib/name-key.ts";
import type { Item } from "@bazaar/lib/schemas.ts";
import { cacheOff } from "./cache-off.ts";
import { atRunEnd } from "./run-end.ts";
import { HARNESS_USER, startThrowawayDb } from "./throwaway-db.ts";

/** The catalogue every test starts from (reset()), and the fakes of the contract test too. */
export const CATALOGUE: readonly Item[] = [
  { name: "Tux", quantity: 100, price: 15.99 },
  { name: "Fox", quantity: 100, price: 12.49 },
  { name: "Gopher", quantity: 5, price: 14.25 },
  { name: "Duke", quantity: 0, price: 11.75 },
];

/** The Bearer token both apps take here. */
export const HARNESS_TOKEN = "harness-token";

/** A request to an app: `body` is sent as JSON; the Bearer token unless `headers` name another. */
export type Call = { method: string; path: string; body?: unknown; headers?: Record<string, string> };

/** An app's answer: its JSON parsed (null for none, the text when it is not JSON). */
export type Answer<T = unknown> = { status: number; headers: Headers; body: T };

export type ServiceName = "api" | "admin-api";

/**
 * Sends Calls through `send` (an app's `request`, a fake's fetch) as a caller with
 * `token` would, and reads the answers.
 * @example
 * const call = caller((path, init) => app.request(path, init), "t");
 * const { status, body } = await call({ method: "GET", path: "/items" });
 */
export const caller = (
  send: (path: string, init: RequestInit) => Response | Promise<Response>,
  token: string,
) =>
async <T = unknown>({ method, path, body, headers = {} }: Call): Promise<Answer<T>> => {
  const res = await send(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text === "" ? null : text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the text as it came.
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
};

type Shared = { pools: Record<ServiceName, Db>; harness: mysql.Pool };

let shared: Promise<Shared> | undefined;

/**
 * The throwaway MariaDB's first port for a run's TEST_PORT_OFFSET (tests/setup.ts:
 * the stack's ports are the design's + the offset): above the stack's MariaDB.
 * @example
 * harnessDbPort(10000); // 13316, or the next free one
 */
export const harnessDbPort = (offset: number) => 3316 + offset;

/** The run's MariaDB and pools: started by the first harness, stopped after the last file. */
async function start(): Promise<Shared> {
  // The data dir beside the stack's.
  const dataDir = `${process.env.TEST_DATA_DIR ?? ".local/test"}-routes`;
  const db = await startThrowawayDb({
    dataDir,
    port: harnessDbPort(Number(process.env.TEST_PORT_OFFSET ?? 10000)),
  });
  const config = (user: string, password: string) => ({
    DB_HOST: "127.0.0.1",
    DB_PORT: db.port,
    DB_NAME: "bazaar",
    DB_USER: user,
    DB_PASSWORD: password,
    DB_POOL_SIZE: 4,
  });
  // The apps' own accounts, so a grant the SQL lacks fails here as it would in the stack.
  const pools = {
    api: createDb(config("bazaar_api", db.passwords.api)),
    "admin-api": createDb(config("bazaar_admin", db.passwords.admin)),
  };
  const harness = mysql.createPool({
    host: "127.0.0.1",
    port: db.port,
    user: HARNESS_USER,
    password: db.passwords.harness,
    database: "bazaar",
    multipleStatements: true,
    connectionLimit: 1,
  });
  atRunEnd(async () => {
    await Promise.all([pools.api.close(), pools["admin-api"].close(), harness.end()]);
    await db.stop();
  });
  return { pools, harness };
}

const quiet = () => {};

/**
 * An app of `service` over the run's MariaDB, and what a test needs around it.
 * @example
 * const api = await routeHarness("api");
 * beforeEach(() => api.reset());
 * test("the list", async () => expect((await api.get("/items")).status).toBe(200));
 */
export async function routeHarness(service: ServiceName) {
  shared ??= start();
  const { pools, harness } = await shared;
  const deps = { db: pools[service], cache: cacheOff(), token: HARNESS_TOKEN, log: quiet };
  const app = service === "api" ? createApi(deps) : createAdminApi(deps);

  const call = caller((path, init) => app.request(path, init), HARNESS_TOKEN);
  const send =
    (method: string) => <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>({ method, path, body, headers });

  return {
    app,
    /** The app's own pool (its account): to run one of its modules' SQL directly. */
    db: pools[service],
    call,
    get: <T = unknown>(path: string, headers?: Record<string, string>) =>
      call<T>({ method: "GET", path, headers }),
    post: send("POST"),
    patch: send("PATCH"),
    delete: send("DELETE"),
    /** The catalogue as `items` (CATALOGUE unless given), ids from 1, no orders, no admin writes. */
    async reset(items: readonly Item[] = CATALOGUE) {
      await harness.query(
        "TRUNCATE orders; TRUNCATE admin_writes; TRUNCATE items; UPDATE catalog_meta SET row_changes = 0 WHERE id = 1;",
      );
      if (items.length) {
        await harness.query("INSERT INTO items (name, name_key, quantity, price) VALUES ?", [
          items.map((i) => [i.name, nameKey(i.name), i.quantity, i.price]),
        ]);
      }
      // The inserts' outbox rows: no relay runs here to take them.
      await harness.query("TRUNCATE catalog_outbox");
    },
    /** SQL as the harness's account, to see what a route left behind. */
    sql: async <T = mysql.RowDataPacket>(sql: string, params: unknown[] = []) =>
      (await harness.query(sql, params))[0] as T[],
  };
}

export type RouteHarness = Awaited<ReturnType<typeof routeHarness>>;
