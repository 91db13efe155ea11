// How long a cache clear takes with 0 and with 100,000 unrelated keys in Redis.
// A clear must not grow with unrelated keys (no SCAN of the keyspace).
// Usage: UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… bun bench/cache-clear.ts
import { Redis } from "@upstash/redis";
import * as v from "valibot";
import { createCache } from "@bazaar/lib/cache.ts";
import { cacheConfig } from "@bazaar/lib/testing.ts";

const config = cacheConfig();
const redis = new Redis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN });
const cache = createCache(config, { namespaces: ["bench"] });
const Value = v.object({ n: v.number() });
const ROUNDS = 300;

async function measure(label: string) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await cache.read("bench:item:tux", Value, async () => ({ n: i }));
    const start = performance.now();
    await cache.clear("bench:list", "bench:item:tux");
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!.toFixed(3);
  console.log(
    `${label.padEnd(28)} dbsize ${String(await redis.dbsize()).padStart(7)}  clear p50 ${at(50)} ms  p99 ${
      at(99)
    } ms`,
  );
}

await measure("no unrelated keys");
for (let start = 0; start < 100_000; start += 5_000) {
  const pipe = redis.pipeline();
  for (let i = start; i < start + 5_000; i++) pipe.set(`unrelated:${i}`, "x", { ex: 600 });
  await pipe.exec();
}
await measure("100,000 unrelated keys");
const pipe = redis.pipeline();
for (let start = 0; start < 100_000; start += 5_000) {
  pipe.del(...Array.from({ length: 5_000 }, (_, i) => `unrelated:${start + i}`));
}
await pipe.exec();
cache.close();
