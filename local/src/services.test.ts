import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requestIdKeyMap } from "@bazaar/lib/request-id.ts";
import { writeRequestIdKeyMap } from "./request-id-key.ts";
import { hasAccount, redisCommand } from "./redis.ts";
import { addressEnv, haproxyEnv, PORT_DEFAULTS, resolvePorts, stackUrls } from "./ports.ts";
import { ALIASES, buildServices, type Context } from "./services.ts";
import { TEST_SECRETS, testContext } from "@bazaar/testutil/launcher.ts";

const ctx = (appEnv: Record<string, string | undefined> = {}) => testContext({ appEnv });
const envOf = (c: Context, name: string) => buildServices(c).find((s) => s.name === name)!.command().env;

describe("the timed restocking reaches admin-api in the local stack", () => {
  const saved = { every: process.env.RESTOCK_EVERY_S, to: process.env.RESTOCK_TO };
  afterEach(() => {
    process.env.RESTOCK_EVERY_S = saved.every;
    process.env.RESTOCK_TO = saved.to;
    if (saved.every === undefined) delete process.env.RESTOCK_EVERY_S;
    if (saved.to === undefined) delete process.env.RESTOCK_TO;
  });

  test("from the environment bun run local was started with (the shell, or .env)", () => {
    process.env.RESTOCK_EVERY_S = "10";
    process.env.RESTOCK_TO = "100";
    expect(envOf(ctx(), "admin-api")).toMatchObject({ RESTOCK_EVERY_S: "10", RESTOCK_TO: "100" });
  });

  test("from a caller's extra app variables (startStack's appEnv)", () => {
    delete process.env.RESTOCK_EVERY_S;
    delete process.env.RESTOCK_TO;
    expect(envOf(ctx({ RESTOCK_EVERY_S: "2", RESTOCK_TO: "7" }), "admin-api")).toMatchObject({
      RESTOCK_EVERY_S: "2",
      RESTOCK_TO: "7",
    });
    const off = envOf(ctx(), "admin-api");
    expect(off.RESTOCK_EVERY_S).toBeUndefined();
    expect(off.RESTOCK_TO).toBeUndefined();
  });
});

describe("what is read from the service table", () => {
  test("each port's variable and address, as the stack exports them (stack.env)", () => {
    const h = (p: number) => `http://127.0.0.1:${p}`;
    const servers = { web: 3, admin: 1 };
    expect(addressEnv(resolvePorts(undefined, {}, servers), servers)).toEqual({
      DB_PORT: "3306",
      REDIS_PORT: "6379",
      REDIS_URL: "redis://127.0.0.1:6379",
      CACHE_PORT: "8079",
      CACHE_URL: h(8079),
      UPSTASH_REDIS_REST_URL: h(8079),
      API_PORT: "5003",
      API_URL: h(5003),
      ADMIN_API_PORT: "5002",
      ADMIN_API_URL: h(5002),
      WEB1_PORT: "8083",
      WEB1_URL: h(8083),
      WEB2_PORT: "8084",
      WEB2_URL: h(8084),
      // web-3 was not given a port: it follows web-1's.
      WEB3_PORT: "8085",
      WEB3_URL: h(8085),
      ADMIN1_PORT: "8081",
      ADMIN1_URL: h(8081),
      STORE_PORT: "8080",
      STORE_URL: h(8080),
      STATS_PORT: "8404",
      STATS_URL: h(8404),
    });
    expect(() => addressEnv(PORT_DEFAULTS, servers)).toThrow("no port for web3");
  });

  test("stack.urls: every port's address, and every server's of each tier", () => {
    const urls = stackUrls(resolvePorts(undefined, {}, { web: 3, admin: 1 }), { web: 3, admin: 1 });
    expect(urls).toMatchObject({
      store: "http://127.0.0.1:8080",
      db: "mysql://127.0.0.1:3306/bazaar",
      redis: "redis://127.0.0.1:6379",
      adminApi: "http://127.0.0.1:5002",
      web2: "http://127.0.0.1:8084",
      admin2: "http://127.0.0.1:8082",
    });
    expect(urls.web).toEqual(["http://127.0.0.1:8083", "http://127.0.0.1:8084", "http://127.0.0.1:8085"]);
    expect(urls.admin).toEqual(["http://127.0.0.1:8081"]);
  });

  test("HAProxy's binds and server addresses, and its stats login only when given", () => {
    const env = haproxyEnv(PORT_DEFAULTS, { user: "u", password: "p" }, { web: 1, admin: 2 });
    expect(env).toMatchObject({
      STORE_BIND: "127.0.0.1:8080",
      STATS_BIND: "127.0.0.1:8404",
      WEB1_ADDR: "127.0.0.1:8083",
      ADMIN2_ADDR: "127.0.0.1:8082",
      STATS_USER: "u",
      STATS_PASSWORD: "p",
    });
    expect(env.WEB2_ADDR).toBeUndefined();
    expect(haproxyEnv(PORT_DEFAULTS).STATS_USER).toBeUndefined();
  });

  test("a service is known by its other names too; one of no service is none", () => {
    expect([ALIASES.bridge, ALIASES.srh, ALIASES.mariadb, ALIASES.haproxy]).toEqual([
      "cache",
      "cache",
      "db",
      "proxy",
    ]);
    expect(ALIASES.web).toBeUndefined();
  });
});

describe("the database's steps around its start", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "local-services-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("its first start may take 90 s (system tables, db/init.sql), later ones the stack's timeout", () => {
    const seeded = path.join(dir, ".bazaar-seeded");
    const db = buildServices(testContext({ db: { dir, socket: "", pidFile: "", seeded } }))[0]!;
    expect(db.name).toBe("db");
    expect([typeof db.beforeStart, typeof db.afterHealthy]).toEqual(["function", "function"]);
    expect(db.startTimeoutMs?.(30_000)).toBe(90_000);
    expect(db.startTimeoutMs?.(120_000)).toBe(120_000);
    writeFileSync(seeded, "");
    expect(db.startTimeoutMs?.(30_000)).toBe(30_000);
  });
});

describe("the request-id key in the local stack", () => {
  test("every web and admin server gets it; the proxy gets the map file the launcher wrote (none given: no REQUEST_ID_KEY_MAP)", () => {
    const c = testContext({ requestIdKeyMap: "/data/run/request-id-key.map" });
    for (const web of ["web-1", "web-2", "admin-1", "admin-2"]) {
      expect(envOf(c, web).REQUEST_ID_KEY).toBe(TEST_SECRETS.REQUEST_ID_KEY);
    }
    expect(envOf(c, "proxy").REQUEST_ID_KEY_MAP).toBe("/data/run/request-id-key.map");
    expect(envOf(c, "proxy").REQUEST_ID_KEY).toBeUndefined();
    expect(envOf(testContext(), "proxy").REQUEST_ID_KEY_MAP).toBeUndefined();
    for (const other of ["api", "admin-api"]) {
      expect(envOf(c, other).REQUEST_ID_KEY).toBeUndefined();
    }
  });

  test("the map file holds the key as HAProxy reads it, for the launcher's user only", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "request-id-key-"));
    try {
      const file = writeRequestIdKeyMap(path.join(dir, "run"), "a-key-of-forty-characters-0123456789abcd");
      expect(readFileSync(file, "utf8")).toBe(requestIdKeyMap("a-key-of-forty-characters-0123456789abcd"));
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Redis in the local stack", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "local-redis-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const redisOf = (c: Context) => buildServices(c).find((s) => s.name === "redis")!;

  test("asks for the password, which the bridge's connection string gives, and it is on no command line", () => {
    const c = testContext({ dataDir: dir });
    const redis = redisOf(c);
    const { cmd, program } = redis.command();
    expect(cmd.join(" ")).not.toContain(TEST_SECRETS.REDIS_PASSWORD);
    expect(JSON.stringify(envOf(c, "redis"))).not.toContain(TEST_SECRETS.REDIS_PASSWORD);
    // The config (the password) is read from redis-server's standard input: `-`.
    expect(cmd.slice(0, 4)).toEqual([
      "/bin/sh",
      "-c",
      'exec "$@" <"$0"',
      path.join(dir, "run", "redis.conf"),
    ]);
    expect(cmd[cmd.indexOf("redis-server") + 1]).toBe("-");
    // Its pid file names redis-server, what the process is once the shell has exec'd it.
    expect(program).toBe("redis-server");
    redis.beforeStart!(() => {});
    const conf = path.join(dir, "run", "redis.conf");
    expect(readFileSync(conf, "utf8")).toContain(`\nrequirepass ${TEST_SECRETS.REDIS_PASSWORD}\n`);
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(envOf(c, "cache").SRH_CONNECTION_STRING).toBe(
      `redis://:${TEST_SECRETS.REDIS_PASSWORD}@127.0.0.1:${c.ports.redis}`,
    );
  });

  test("started by root, it runs as the redis account (setpriv), else as the launcher's user", () => {
    const options = ["--port", "6379"];
    expect(redisCommand("redis-server", "/d/run/redis.conf", options, undefined)).toEqual([
      "/bin/sh",
      "-c",
      'exec "$@" <"$0"',
      "/d/run/redis.conf",
      "redis-server",
      "-",
      "--port",
      "6379",
    ]);
    const as = redisCommand("redis-server", "/d/run/redis.conf", options, "redis");
    expect(as.slice(4, 9)).toEqual([
      expect.stringMatching(/setpriv$/),
      "--reuid=redis",
      "--regid=redis",
      "--clear-groups",
      "--",
    ]);
    expect(as.slice(9)).toEqual(["redis-server", "-", "--port", "6379"]);
    const passwd = path.join(dir, "passwd");
    writeFileSync(
      passwd,
      "root:x:0:0:root:/root:/bin/bash\nredis:x:103:106::/var/lib/redis:/usr/sbin/nologin\n",
    );
    expect(hasAccount("redis", passwd)).toBe(true);
    expect(hasAccount("redi", passwd)).toBe(false);
    expect(hasAccount("redis", path.join(dir, "none"))).toBe(false);
  });
});
