// Integration: the cache against the real bridge and Redis of the test stack.
import { afterAll, describe, expect, test } from "bun:test";
// Starts the test stack (on demand, once per run): lib/src/testing.ts reads its env.
import "./stack.ts";
import { Redis } from "@upstash/redis";
import * as v from "valibot";
import { createCache } from "../../lib/src/cache.ts";
import { cacheConfig, testCache } from "../../lib/src/testing.ts";

const Value = v.object({ n: v.number() });
const cache = testCache(["t"]);
const redis = () =>
  new Redis({ url: cacheConfig().UPSTASH_REDIS_REST_URL, token: cacheConfig().UPSTASH_REDIS_REST_TOKEN });
const entry = (name: string) => `t:${name}:${Math.random().toString(36).slice(2)}`;
afterAll(() => cache.close());

describe("cache-aside", () => {
  test("a miss loads once and fills; the next read is a hit that does not load", async () => {
    const key = entry("fill");
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cache.read(key, Value, load)).toEqual({ n: 1 });
    expect(await cache.read(key, Value, load)).toEqual({ n: 1 });
    expect(loads).toBe(1);
  });

  test("a clear makes the next read load the new value", async () => {
    const key = entry("clear");
    let value = 1;
    const load = async () => ({ n: value });
    await cache.read(key, Value, load);
    value = 2;
    await cache.clear(key);
    expect(await cache.read(key, Value, load)).toEqual({ n: 2 });
  });

  test("a read that loaded before a write cannot fill the cache with the old value after it", async () => {
    const key = entry("race");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The slow read loads the old value, then waits while the write commits and clears.
    const slowRead = cache.read(key, Value, async () => {
      const old = { n: 1 };
      await gate;
      return old;
    });
    await Bun.sleep(20);
    await cache.clear(key); // the write's clear lands while the slow read is loading
    release();
    expect(await slowRead).toEqual({ n: 1 }); // it was concurrent with the write: may see the old value
    expect(await cache.read(key, Value, async () => ({ n: 2 }))).toEqual({ n: 2 }); // but it did not fill
  });

  test("nulls are cached only when asked", async () => {
    const key = entry("null");
    let loads = 0;
    const load = async () => (loads++, null);
    await cache.read(key, v.nullable(Value), load, { cacheNull: false });
    await cache.read(key, v.nullable(Value), load, { cacheNull: false });
    expect(loads).toBe(2);
    await cache.read(key, v.nullable(Value), load);
    await cache.read(key, v.nullable(Value), load);
    expect(loads).toBe(3);
  });

  test("a value in the cache that fails its schema is treated as a miss", async () => {
    const key = entry("bad");
    await cache.read(key, v.object({ s: v.string() }), async () => ({ s: "text" }));
    expect(await cache.read(key, Value, async () => ({ n: 7 }))).toEqual({ n: 7 });
  });

  test("a namespace clear drops every entry of it", async () => {
    const [a, b] = [entry("ns"), entry("ns")];
    await cache.read(a, Value, async () => ({ n: 1 }));
    await cache.read(b, Value, async () => ({ n: 1 }));
    await cache.clearNamespace("t");
    expect(await cache.read(a, Value, async () => ({ n: 2 }))).toEqual({ n: 2 });
    expect(await cache.read(b, Value, async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  test("a clear deletes only its entry's key, however many unrelated keys exist", async () => {
    const client = redis();
    const unrelated = Array.from({ length: 2000 }, (_, i) => `unrelated:${i}`);
    const pipe = client.pipeline();
    for (const k of unrelated) pipe.set(k, "x", { ex: 60 });
    await pipe.exec();
    const key = entry("many");
    await cache.read(key, Value, async () => ({ n: 1 }));
    await cache.clear(key, entry("never-filled"));
    expect(await client.exists(...unrelated.slice(0, 100))).toBe(100);
    expect(await cache.read(key, Value, async () => ({ n: 2 }))).toEqual({ n: 2 });
  });
});

describe("an unreachable cache", () => {
  const down = createCache({ ...cacheConfig(), UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" }, {
    namespaces: ["t"],
    log: () => {},
  });
  afterAll(() => down.close());

  test("reads are served from the loader and status says down", async () => {
    expect(await down.read("t:x", Value, async () => ({ n: 5 }))).toEqual({ n: 5 });
    expect(await down.read("t:x", Value, async () => ({ n: 6 }))).toEqual({ n: 6 });
    expect(await down.status()).toBe("down");
  });

  test("a clear does not throw", async () => {
    await down.clear("t:x");
  });
});
