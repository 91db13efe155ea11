// Integration: the cache against the real bridge and Redis of the test stack.
import { afterAll, describe, expect, test } from "bun:test";
// Starts the test stack (on demand, once per run): lib/src/testing.ts reads its env.
import { eventually } from "./stack.ts";
import net from "node:net";
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
});

/**
 * The way to the bridge, through a relay that can be cut: the real bridge and Redis
 * keep the entry while the cache's requests fail, as when the network between fails.
 */
async function cuttableRelay(target: URL) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => (sockets.delete(a), b.destroy()));
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close() {
      for (const socket of sockets) socket.destroy(); // kept-alive ones would hold close() open
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("a clear that fails", () => {
  test("is logged and resolves; the value it could not delete is never served: the cache is used again only once everything from before is dropped", async () => {
    const relay = await cuttableRelay(new URL(cacheConfig().UPSTASH_REDIS_REST_URL));
    // What was logged, as text: whatever shape the log takes, it must say the clear failed, once.
    const logged: string[] = [];
    const flaky = createCache({ ...cacheConfig(), UPSTASH_REDIS_REST_URL: relay.url }, {
      namespaces: ["t"],
      log: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
    });
    try {
      const key = entry("failed-clear");
      expect(await flaky.read(key, Value, async () => ({ n: 1 }))).toEqual({ n: 1 });
      expect(await flaky.read(key, Value, async () => ({ n: -1 }))).toEqual({ n: 1 }); // cached

      relay.cut();
      await flaky.clear(key); // the write's clear: Redis still holds { n: 1 }
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/cache clear failed; using the database until it is back/);

      relay.restore();
      // Back: reads load (2, 3, …) until the cache is trusted again and one is a hit;
      // none may be the { n: 1 } the failed clear left in Redis.
      let next = 2;
      const seen: number[] = [];
      await eventually(
        async () => {
          const { n } = await flaky.read(key, Value, async () => ({ n: next++ }));
          seen.push(n);
          return seen.length >= 2 && seen.at(-1) === seen.at(-2);
        },
        5000,
        50,
      );
      expect(seen).not.toContain(1);
    } finally {
      flaky.close();
      await relay.close();
    }
  });
});
