// Redis going away and coming back: the bridge answers quickly with SRH's 500 and
// recovers by itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { RedisServer, startBridge, TOKEN } from "./support.ts";

const TIMEOUT_MS = 400;
let server: RedisServer;
let bridge: ReturnType<typeof startBridge>;
let redis: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  bridge = startBridge(server.url, TIMEOUT_MS);
  redis = new Redis({ url: bridge.url, token: TOKEN, enableTelemetry: false, retry: false });
});
afterAll(async () => {
  await bridge?.close();
  await server?.close();
});

const post = (path: string, body: unknown) =>
  fetch(bridge.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });

const UNREACHABLE = { error: "Unable to connect to the Redis server" };

describe("redis-server stopped and restarted", () => {
  test("while it is down every endpoint answers 500 at once; after a restart it works again", async () => {
    await redis.set("before", "1");
    await server.stop();

    for (
      const [path, body] of [["/", ["GET", "before"]], ["/pipeline", [["GET", "before"]]], ["/multi-exec", [[
        "GET",
        "before",
      ]]]] as const
    ) {
      const started = performance.now();
      const res = await post(path, body);
      expect(performance.now() - started).toBeLessThan(200);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual(UNREACHABLE);
    }
    await expect(redis.get("before")).rejects.toThrow(/Unable to connect to the Redis server/);

    await server.resume(); // empty again: no persistence
    expect(await redis.get("before")).toBeNull();
    expect(await redis.set("after", "2")).toBe("OK");
    const incr = "return redis.call('INCR', KEYS[1])";
    expect(await redis.multi().eval(incr, ["n"], []).eval(incr, ["n"], []).exec()).toEqual([1, 2]);
  });

  test("a server that stops answering is a 500 after the timeout, not a hang", async () => {
    await redis.set("k", "v");
    server.pause(true);
    try {
      const started = performance.now();
      const res = await post("/", ["GET", "k"]);
      const took = performance.now() - started;
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual(UNREACHABLE);
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(took).toBeLessThan(TIMEOUT_MS + 600);
    } finally {
      server.pause(false);
    }
    expect(await redis.get("k")).toBe("v");
  });
});
