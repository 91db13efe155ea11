// @upstash/redis, unchanged, against the bridge: what the cache and the apps rely on.
import { beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { TOKEN, useBridge } from "./support.ts";

const ctx = useBridge();

const clients = {
  // The defaults: auto-pipelining (so /pipeline) and base64 responses.
  default: () => new Redis({ url: ctx.bridge.url, token: TOKEN, enableTelemetry: false }),
  "without auto-pipelining": () =>
    new Redis({ url: ctx.bridge.url, token: TOKEN, enableTelemetry: false, enableAutoPipelining: false }),
  "without base64": () =>
    new Redis({
      url: ctx.bridge.url,
      token: TOKEN,
      enableTelemetry: false,
      enableAutoPipelining: false,
      responseEncoding: false,
    }),
  "auto-pipelining without base64": () =>
    new Redis({ url: ctx.bridge.url, token: TOKEN, enableTelemetry: false, responseEncoding: false }),
};

const UNICODE = [
  "héllo wörld",
  "😀🛒🎉 emoji",
  "中文字符 日本語 한국어",
  "mixed: ∑ 𝄞 \u0000 nul, \t tab, \n newline",
  '"quotes" and \\backslashes\\',
  "OK",
  "",
];

for (const [name, make] of Object.entries(clients)) {
  describe(`@upstash/redis ${name}`, () => {
    let redis: Redis;
    beforeAll(() => {
      redis = make();
    });
    const key = (k: string) => `${name}:${k}`;

    test("unicode strings round-trip exactly", async () => {
      for (const [i, value] of UNICODE.entries()) {
        expect(await redis.set(key(`u${i}`), value)).toBe("OK");
        expect(await redis.get<string>(key(`u${i}`))).toBe(value);
      }
      const keys = UNICODE.map((_, i) => key(`u${i}`));
      expect(await redis.mget<string[]>(...keys)).toEqual(UNICODE);
    });

    test("integers come back as numbers", async () => {
      expect(await redis.incr(key("n"))).toBe(1);
      expect(await redis.incrby(key("n"), 41)).toBe(42);
      expect(await redis.set(key("m"), 7)).toBe("OK");
      expect(await redis.get(key("m"))).toBe(7);
      expect(await redis.exists(key("n"), key("m"), key("none"))).toBe(2);
      expect(await redis.strlen(key("n"))).toBe(2);
    });

    test("JSON values are serialized and parsed back", async () => {
      const value = {
        name: "Tux 🐧",
        price: 15.99,
        quantity: 100,
        tags: ["toy", "玩具"],
        nested: { ok: true, none: null },
      };
      await redis.set(key("json"), value);
      expect(await redis.get(key("json"))).toEqual(value);
      await redis.set(key("list"), [1, "two", { three: 3 }]);
      expect(await redis.get(key("list"))).toEqual([1, "two", { three: 3 }]);
    });

    test("a missing key is null", async () => {
      expect(await redis.get(key("missing"))).toBeNull();
      expect(await redis.hget(key("missing-hash"), "f")).toBeNull();
      expect(await redis.mget(key("missing"), key("u0"))).toEqual([null, UNICODE[0]]);
    });

    test("a pipeline reports a failing command and runs the others", async () => {
      await redis.set(key("text"), "not a number");
      const p = redis.pipeline();
      p.set(key("p1"), "a");
      p.incr(key("text"));
      p.get(key("p1"));
      const results = await p.exec({ keepErrors: true });
      expect(results[0]).toEqual({ result: "OK", error: undefined });
      expect(results[1]!.error).toContain("ERR value is not an integer");
      expect(results[2]).toEqual({ result: "a", error: undefined });

      const q = redis.pipeline();
      q.set(key("p2"), "b");
      q.incr(key("text"));
      await expect(q.exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
    });

    test("multi-exec runs the commands as one transaction", async () => {
      const tx = redis.multi();
      tx.set(key("tx"), "1");
      tx.incr(key("tx"));
      tx.get(key("tx"));
      expect(await tx.exec()).toEqual(["OK", 2, 2]);

      // A command failing at run time fails alone; the rest are applied.
      await redis.set(key("txt"), "text");
      const bad = redis.multi();
      bad.incr(key("txt"));
      bad.set(key("after"), "applied");
      const results = await bad.exec({ keepErrors: true });
      expect(results[0]!.error).toContain("ERR value is not an integer");
      expect(await redis.get(key("after"))).toBe("applied");
    });

    test("HGETALL becomes an object, HSET/HGET round-trip", async () => {
      expect(await redis.hset(key("h"), { name: "Fox 🦊", qty: 3, 1: "numeric field" })).toBe(3);
      expect(await redis.hgetall(key("h"))).toEqual({ name: "Fox 🦊", qty: 3, 1: "numeric field" });
      expect(await redis.hgetall(key("no-hash"))).toBeNull();
    });

    test("EVAL returns arrays with nil elements as null", async () => {
      // The cache's read script: GET of a missing key is Lua false, a nil in RESP2.
      const script = "local g = redis.call('GET', KEYS[1]) or '0'\nreturn {g, redis.call('GET', KEYS[2])}";
      expect(await redis.eval(script, [key("gen"), key("no-value")], [])).toEqual([0, null]);
      await redis.set(key("gen"), "5");
      await redis.set(key("value"), JSON.stringify({ a: "ü" }));
      expect(await redis.eval(script, [key("gen"), key("value")], [])).toEqual([5, { a: "ü" }]);
      expect(await redis.eval("return {1, 'two', {3, 'four'}}", [], [])).toEqual([1, "two", [3, "four"]]);
      expect(await redis.eval("return nil", [], [])).toBeNull();
      expect(await redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", [key("ev")], [10])).toBe(10);
    });
  });
}

describe("@upstash/redis against a fuller keyspace", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = clients.default();
  });

  test("SCAN with MATCH and COUNT visits every matching key", async () => {
    const p = redis.pipeline();
    for (let i = 0; i < 300; i++) p.set(`scan:${i}`, i);
    for (let i = 0; i < 50; i++) p.set(`other:${i}`, i);
    await p.exec();
    const seen = new Set<string>();
    let cursor: string | number = 0;
    do {
      const [next, keys]: [string | number, string[]] = await redis.scan(cursor, {
        match: "scan:*",
        count: 50,
      });
      for (const k of keys) seen.add(k);
      cursor = next;
    } while (String(cursor) !== "0");
    expect(seen.size).toBe(300);
    expect([...seen].every((k) => k.startsWith("scan:"))).toBe(true);
  });

  test("DEL of 5,000 keys in one call", async () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `bulk:${i}:${"x".repeat(20)}`);
    await redis.mset(Object.fromEntries(keys.map((k) => [k, "v"])));
    expect(await redis.del(...keys)).toBe(5000);
    expect(await redis.exists(keys[0]!, keys[4999]!)).toBe(0);
  });

  test("a 2 MB value round-trips (replies arrive in many chunks)", async () => {
    const big = "ab😀中".repeat(200_000);
    await redis.set("big", big);
    expect(await redis.get<string>("big")).toBe(big);
  });

  test("many concurrent commands each get their own reply", async () => {
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => redis.set(`c:${i}`, `value ${i} ✓`)));
    const values = await Promise.all(Array.from({ length: n }, (_, i) => redis.get<string>(`c:${i}`)));
    expect(values).toEqual(Array.from({ length: n }, (_, i) => `value ${i} ✓`));
  });

  test("transactions are never interleaved with other clients' commands", async () => {
    await redis.mset({ "a:x": 0, "a:y": 0 });
    const plain = clients["without auto-pipelining"]();
    const writers = Array.from({ length: 50 }, () => redis.multi().incr("a:x").incr("a:y").exec());
    // Readers on the shared connection meanwhile must never see x and y apart.
    const readers = Array.from({ length: 50 }, () => plain.mget<number[]>("a:x", "a:y"));
    const seen = await Promise.all(readers);
    await Promise.all(writers);
    for (const [x, y] of seen) expect(x).toBe(y);
    expect(await redis.mget("a:x", "a:y")).toEqual([50, 50]);
  });

  test("the cache's read script, with the cache's client options, gets [epoch, gen, null] on a miss", async () => {
    // As lib/src/cache.ts builds its client: raw strings, no retries, a deadline per call.
    const raw = new Redis({
      url: ctx.bridge.url,
      token: TOKEN,
      automaticDeserialization: false,
      enableTelemetry: false,
      retry: false,
      keepAlive: true,
      signal: () => AbortSignal.timeout(500),
    });
    const READ = `local e = redis.call('GET', KEYS[1]) or '0'
local g = redis.call('GET', KEYS[2]) or '0'
return {e, g, redis.call('GET', ARGV[1] .. ':v:' .. e .. ':' .. g .. ':' .. ARGV[2])}`;
    const keys = ["catalog:epoch", "catalog:gen:item:tux"];
    expect(await raw.eval(READ, keys, ["catalog", "item:tux"])).toEqual(["0", "0", null]);
    const value = JSON.stringify({ name: "Tux 🐧", price: 15.99, quantity: 100 });
    await raw.set("catalog:epoch", "3");
    await raw.set("catalog:v:3:0:item:tux", value);
    expect(await raw.eval(READ, keys, ["catalog", "item:tux"])).toEqual(["3", "0", value]);
  });

  test("sorted-set scores are strings, as in RESP2", async () => {
    await redis.zadd("z", { score: 1.5, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zscore("z", "a")).toBe(1.5);
    expect(await redis.zrange("z", 0, -1, { withScores: true })).toEqual(["a", 1.5, "b", 2]);
  });
});
