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
      const p = redis.pipeline();
      for (const [i] of UNICODE.entries()) p.get(key(`u${i}`));
      expect(await p.exec()).toEqual(UNICODE);
    });

    test("integers come back as numbers", async () => {
      expect(await redis.set(key("m"), 7)).toBe("OK");
      expect(await redis.get(key("m"))).toBe(7);
      expect(await redis.del(key("m"), key("none"))).toBe(1);
      expect(await redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", [key("n")], [42])).toBe(42);
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
      expect(await redis.pipeline().get(key("missing")).get(key("u0")).exec()).toEqual([null, UNICODE[0]]);
    });

    test("a pipeline reports a failing command and runs the others", async () => {
      await redis.set(key("text"), "not a number");
      const incr = "return redis.call('INCR', KEYS[1])";
      const p = redis.pipeline();
      p.set(key("p1"), "a");
      p.eval(incr, [key("text")], []);
      p.get(key("p1"));
      const results = await p.exec({ keepErrors: true });
      expect(results[0]).toEqual({ result: "OK", error: undefined });
      expect(results[1]!.error).toContain("ERR value is not an integer");
      expect(results[2]).toEqual({ result: "a", error: undefined });

      const q = redis.pipeline();
      q.set(key("p2"), "b");
      q.eval(incr, [key("text")], []);
      await expect(q.exec()).rejects.toThrow(/Command 2 \[ eval \] failed: ERR value is not an integer/);
    });

    test("multi-exec runs the commands as one transaction", async () => {
      const incr = "return redis.call('INCR', KEYS[1])";
      const tx = redis.multi();
      tx.set(key("tx"), "1");
      tx.eval(incr, [key("tx")], []);
      tx.get(key("tx"));
      expect(await tx.exec()).toEqual(["OK", 2, 2]);

      // A command failing at run time fails alone; the rest are applied.
      await redis.set(key("txt"), "text");
      const bad = redis.multi();
      bad.eval(incr, [key("txt")], []);
      bad.set(key("after"), "applied");
      const results = await bad.exec({ keepErrors: true });
      expect(results[0]!.error).toContain("ERR value is not an integer");
      expect(await redis.get(key("after"))).toBe("applied");
    });

    test("a command the apps do not send is refused with SRH's error, and the client says so", async () => {
      await expect(redis.flushall()).rejects.toThrow(/ERR Command is not available: 'flushall'/);
      await expect(redis.hgetall(key("h"))).rejects.toThrow(/Command is not available/);
      expect(await redis.get(key("u0"))).toBe(UNICODE[0]!);
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

  test("EVALSHA runs a script loaded by an EVAL; before, it is NOSCRIPT (the cache then sends EVAL)", async () => {
    const script = "return ARGV[1] .. ' ✓'";
    const sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
    await expect(redis.evalsha(`${"0".repeat(39)}1`, [], ["x"])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [], ["loaded"])).toBe("loaded ✓");
    expect(await redis.evalsha(sha, [], ["again"])).toBe("again ✓");
  });

  test("TIME is Redis's clock, and PING answers", async () => {
    const [seconds, micros] = await redis.time();
    expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(60);
    expect(Number(micros)).toBeLessThan(1_000_000);
    expect(await redis.ping()).toBe("PONG");
  });

  test("DEL of 5,000 keys in one call", async () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `bulk:${i}:${"x".repeat(20)}`);
    const p = redis.pipeline();
    for (const k of keys) p.set(k, "v");
    await p.exec();
    expect(await redis.del(...keys)).toBe(5000);
    expect(await redis.get(keys[0]!)).toBeNull();
    expect(await redis.get(keys[4999]!)).toBeNull();
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
    await redis.pipeline().set("a:x", 0).set("a:y", 0).exec();
    const plain = clients["without auto-pipelining"]();
    const incr = "return redis.call('INCR', KEYS[1])";
    const writers = Array.from(
      { length: 50 },
      () => redis.multi().eval(incr, ["a:x"], []).eval(incr, ["a:y"], []).exec(),
    );
    // Readers on the shared connection meanwhile (two GETs, not atomic by themselves)
    // must never see x and y apart.
    const readers = Array.from(
      { length: 50 },
      () => plain.pipeline().get<number>("a:x").get<number>("a:y").exec(),
    );
    const seen = await Promise.all(readers);
    await Promise.all(writers);
    for (const [x, y] of seen) expect(x).toBe(y);
    expect(await redis.pipeline().get("a:x").get("a:y").exec()).toEqual([50, 50]);
  });

  test("the cache's read script, with the cache's client options, gets [epoch, gen, null] on a miss", async () => {
    // As lib/src/data/cache.ts builds its client: raw strings, no retries, a deadline per call.
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

  test("a script's nested replies keep RESP2's shapes: a hash as a flat array, a score as a string", async () => {
    const script = `redis.call('HSET', KEYS[1], 'f', 'v', 'g', 'two')
redis.call('ZADD', KEYS[2], 1.5, 'a', 2, 'b')
return {redis.call('HGETALL', KEYS[1]), redis.call('ZSCORE', KEYS[2], 'a')}`;
    expect(await redis.eval(script, ["h", "z"], [])).toEqual([["f", "v", "g", "two"], 1.5]);
  });
});
