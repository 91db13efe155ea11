import { afterAll, describe, expect, test } from "bun:test";
import { createCache } from "./data/cache.ts";
import { Hono } from "hono";
import { describeError, logRequests, stackFrames } from "./log.ts";

// An Upstash REST endpoint in front of a Redis that refuses writes (`CONFIG SET
// maxmemory 1`): what SRH and the bridge answer then.
const full = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () =>
    Response.json({ error: "OOM command not allowed when used memory > 'maxmemory'." }, { status: 400 }),
});
afterAll(() => full.stop(true));

const SECRET = "csrf-token-b8a1c0ffee";
const cacheOnFullRedis = (log = (_: Record<string, unknown>) => {}) =>
  createCache({
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${full.port}`,
    UPSTASH_REDIS_REST_TOKEN: "token",
    CACHE_TTL_SECONDS: 300,
    CACHE_TIMEOUT_MS: 2000,
  }, { log });

describe("describeError: an error as it may be logged", () => {
  test("the cache client's error says what Redis said, not the command (whose value was a session's CSRF token)", async () => {
    const err = await cacheOnFullRedis().kv.set("admin-session:abc", JSON.stringify({ csrf: SECRET }), 60)
      .catch((e) => e);
    expect(String(err)).toContain(SECRET); // what used to be logged
    const described = describeError(err);
    expect(described).toStartWith("UpstashError: OOM command not allowed when used memory >");
    expect(described).not.toContain(SECRET);
    expect(described).not.toContain("admin-session");
    expect(described).toEndWith("(the rest is not logged)");
  });

  test("a failed cache call is logged without its arguments", async () => {
    const lines: Record<string, unknown>[] = [];
    const cache = cacheOnFullRedis((entry) => lines.push(entry));
    await cache.script("return ARGV[1]")([SECRET]).catch(() => {});
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe("cache call failed; using the database until it is back");
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  test("a database error is its code: never the statement or the values its message quotes", () => {
    // As mysql2 makes them: the statement, values in, on `sql`; values quoted in the message.
    const dup = Object.assign(new Error(`Duplicate entry '${SECRET}' for key 'orders_request'`), {
      code: "ER_DUP_ENTRY",
      errno: 1062,
      sqlState: "23000",
      sqlMessage: `Duplicate entry '${SECRET}' for key 'orders_request'`,
      sql: `INSERT INTO orders (request_id) VALUES ('${SECRET}')`,
    });
    expect(describeError(dup)).toBe("Error: ER_DUP_ENTRY (errno 1062)");
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), {
      code: "ECONNREFUSED",
      errno: -111,
    });
    expect(describeError(refused)).toBe("Error: ECONNREFUSED (errno -111)");
  });

  test("any other error: its message with every quoted run left out, its cause likewise", () => {
    const parse = (() => {
      try {
        JSON.parse(`{"csrf": ${SECRET}}`);
      } catch (e) {
        return e;
      }
    })();
    expect(describeError(parse)).not.toContain(SECRET);
    expect(describeError(parse)).toStartWith("SyntaxError");
    const wrapped = new Error("the cache is temporarily unavailable", {
      cause: new Error(`ERR unknown command 'x', with args beginning with: '${SECRET}'`),
    });
    expect(describeError(wrapped)).toBe(
      "Error: the cache is temporarily unavailable (cause: Error: ERR unknown command …, (the rest is not logged))",
    );
    expect(describeError(new TypeError("fetch failed"))).toBe("TypeError: fetch failed");
    expect(
      describeError(
        new Error("Unable to connect to the Redis server", { cause: "connect ECONNREFUSED 127.0.0.1:6379" }),
      ),
    )
      .toBe("Error: Unable to connect to the Redis server (cause: connect ECONNREFUSED 127.0.0.1:6379)");
    expect(describeError(`a string '${SECRET}'`)).toBe("a string …");
    expect(describeError(undefined)).toBe("a thrown undefined");
  });

  test("a stack trace is kept without its message lines", () => {
    const err = new Error(`line one ${SECRET}\nline two ${SECRET}`);
    const frames = stackFrames(err)!;
    expect(frames).toContain("at ");
    expect(frames).not.toContain(SECRET);
  });
});

describe("logRequests", () => {
  test("one line per request, but none for health checks or what `quiet` names once it is answered", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = new Hono()
      .use(
        logRequests("api", (l) => lines.push(l), (c) => c.req.path === "/feed/grant" && c.res.status === 200),
      )
      .get("/healthz", (c) => c.text("ok"))
      .post("/feed/grant", (c) => (c.req.query("fail") ? c.text("no", 503) : c.text("ok")))
      .get("/items", (c) => c.text("ok"));
    await app.request("/healthz");
    await app.request("/feed/grant", { method: "POST" });
    await app.request("/feed/grant?fail=1", { method: "POST" });
    await app.request("/items");
    expect(lines.map((l) => [l.path, l.status])).toEqual([["/feed/grant", 503], ["/items", 200]]);
  });
});
