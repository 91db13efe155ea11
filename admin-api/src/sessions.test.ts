import { describe, expect, spyOn, test } from "bun:test";
import { Hono } from "hono";
import { createCache } from "@bazaar/lib/data/cache.ts";
import { signInLimiter } from "./logins.ts";
import { sessions as sessionRoutes } from "./routes/sessions.ts";
import { memoryKv } from "@bazaar/testutil/memory-kv.ts";
import { sessionStore } from "./sessions.ts";

const quiet = () => {};

function setup(now = () => Date.now()) {
  const redis = memoryKv(now);
  const store = sessionStore({ kv: redis.kv, log: quiet, retryMs: 10, now });
  return { redis, store };
}

describe("the session store", () => {
  test("a new session can be checked, and once ended it is gone", async () => {
    const { store } = setup();
    const s = await store.create("admin", "fp");
    expect(s.id.length).toBeGreaterThanOrEqual(40);
    expect(await store.check(s.id)).toEqual(s);
    expect(await store.end(s.id)).toBe(true);
    expect(await store.check(s.id)).toBeNull();
    expect(await store.end(s.id)).toBe(false);
  });

  test("Redis holds a copy under the id's hash, never the id itself, with the session's expiry", async () => {
    const { redis, store } = setup();
    const s = await store.create("admin", "fp");
    const keys = [...redis.data.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^admin-session:[0-9a-f]{64}$/);
    expect(keys[0]).not.toContain(s.id);
    expect(JSON.parse(redis.data.get(keys[0]!)!.value)).toEqual({
      user: "admin",
      expires: s.expires,
      csrf: s.csrf,
      fingerprint: "fp",
    });
    expect(redis.data.get(keys[0]!)!.until).toBeGreaterThanOrEqual(s.expires);
    await store.end(s.id);
    // Ended: a mark in its place until the session would have expired (for other admin-apis).
    expect([...redis.data.values()]).toEqual([{ value: "ended", until: redis.data.get(keys[0]!)!.until }]);
    expect(redis.data.get(keys[0]!)!.until).toBeGreaterThanOrEqual(s.expires);
  });

  test("several admin-apis on one Redis: a session ended on one is ended on the others, even one that holds it", async () => {
    const { redis, store } = setup();
    const other = sessionStore({ kv: redis.kv, log: quiet });
    const s = await store.create("admin", "fp");
    expect(await other.check(s.id)).toEqual(s); // now held in both memories
    expect(await store.end(s.id)).toBe(true);
    expect(await other.check(s.id)).toBeNull();
    expect(await other.end(s.id)).toBe(false);
    // Redis flushed (no copy, no mark): a session held in memory still works there.
    const kept = await store.create("admin", "fp");
    redis.data.clear();
    expect(await store.check(kept.id)).toEqual(kept);
  });

  test("a session outlives a restart of admin-api (a new store on the same Redis), and an end there ends it", async () => {
    const { redis, store } = setup();
    const s = await store.create("admin", "fp");
    const restarted = sessionStore({ kv: redis.kv, log: quiet });
    expect(await restarted.check(s.id)).toEqual(s);
    await restarted.end(s.id);
    expect(await sessionStore({ kv: redis.kv, log: quiet }).check(s.id)).toBeNull();
  });

  test("sessions expire after their time", async () => {
    let t = 1_000_000;
    const redis = memoryKv(() => t);
    const store = sessionStore({ kv: redis.kv, ttlSeconds: 60, now: () => t, log: quiet });
    const s = await store.create("admin", "fp");
    t += 59_000;
    expect(await store.check(s.id)).not.toBeNull();
    t += 2000;
    expect(await store.check(s.id)).toBeNull();
    expect(await sessionStore({ kv: redis.kv, now: () => t, log: quiet }).check(s.id)).toBeNull();
  });

  test("an unknown or made-up id is no session", async () => {
    const { store } = setup();
    await store.create("admin", "fp");
    expect(await store.check("not-a-session")).toBeNull();
    expect(await store.check("")).toBeNull();
  });
});

describe("the session store with Redis down", () => {
  test("known sessions keep working; sign-in and sign-out work; Redis is brought up to date when it is back", async () => {
    const { redis, store } = setup();
    const before = await store.create("admin", "fp");
    const ending = await store.create("admin", "fp");
    redis.state.down = true;
    expect(await store.check(before.id)).toEqual(before);
    const during = await store.create("admin", "fp");
    expect(await store.check(during.id)).toEqual(during);
    expect(await store.end(ending.id)).toBe(true);
    expect(await store.check(ending.id)).toBeNull();
    expect(store.size.unwritten).toBe(2);
    redis.state.down = false;
    await Bun.sleep(50); // the retry (retryMs 10)
    expect(store.size.unwritten).toBe(0);
    // A restarted admin-api sees exactly what this one does.
    const restarted = sessionStore({ kv: redis.kv, log: quiet });
    expect(await restarted.check(before.id)).toEqual(before);
    expect(await restarted.check(during.id)).toEqual(during);
    expect(await restarted.check(ending.id)).toBeNull();
  });

  test("a session ended while Redis was down is never taken back from the copy Redis still holds", async () => {
    const { redis, store } = setup();
    const s = await store.create("admin", "fp");
    const restarted = sessionStore({ kv: redis.kv, log: quiet, retryMs: 60_000 });
    expect(await restarted.check(s.id)).not.toBeNull();
    redis.state.down = true;
    await restarted.end(s.id);
    redis.state.down = false; // back, but the deletion is not written until the retry
    expect([...redis.data.keys()]).toHaveLength(1);
    expect(await restarted.check(s.id)).toBeNull();
    restarted.close();
  });

  test("a session this admin-api has not seen, with Redis down, is unknown: that admin signs in again", async () => {
    const { redis, store } = setup();
    const s = await store.create("admin", "fp");
    const restarted = sessionStore({ kv: redis.kv, log: quiet });
    redis.state.down = true;
    expect(await restarted.check(s.id)).toBeNull();
    redis.state.down = false;
    expect(await restarted.check(s.id)).toEqual(s);
  });

  test("while Redis is known down, sign-ins do not wait for it", async () => {
    const redis = memoryKv();
    const store = sessionStore({ kv: redis.kv, log: quiet, retryMs: 60_000 });
    redis.state.down = true;
    await store.create("admin", "fp"); // finds it down, schedules a retry
    const calls = redis.state.calls;
    for (let i = 0; i < 5; i++) await store.create("admin", "fp");
    expect(redis.state.calls).toBe(calls);
    store.close();
  });

  test("an end racing a check that is reading Redis wins", async () => {
    const { redis, store } = setup();
    const s = await store.create("admin", "fp");
    const other = sessionStore({ kv: redis.kv, log: quiet });
    const checking = other.check(s.id); // goes to Redis (not in this store's memory)
    await other.end(s.id);
    expect(await checking).toBeNull();
    expect(await other.check(s.id)).toBeNull();
  });
});

describe("the routes", () => {
  const app = () => {
    const { redis, store } = setup();
    return { redis, app: new Hono().route("/sessions", sessionRoutes({ store, limiter: signInLimiter() })) };
  };
  const post = (a: Hono, path: string, body: unknown) =>
    a.request(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  test("a verified sign-in starts a session; a wrong one does not; check and end take the id in the body", async () => {
    const { app: a } = app();
    const wrong = await post(a, "/sessions", {
      user: "admin",
      address: "10.0.0.1",
      verified: false,
      fingerprint: "fp",
    });
    expect(await wrong.json()).toEqual({ data: { outcome: "wrong" } });
    const ok = await (await post(a, "/sessions", {
      user: "admin",
      address: "10.0.0.1",
      verified: true,
      fingerprint: "fp",
    })).json();
    expect(ok.data.outcome).toBe("allowed");
    const { id } = ok.data.session;
    expect((await (await post(a, "/sessions/check", { id })).json()).data).toEqual(ok.data.session);
    expect((await (await post(a, "/sessions/end", { id })).json()).data).toEqual({ ended: true });
    expect((await (await post(a, "/sessions/check", { id })).json()).data).toBeNull();
  });

  test("over the limit the answer is 'wait' with the seconds, right password or not", async () => {
    const { app: a } = app();
    for (let i = 0; i < 5; i++) {
      await post(a, "/sessions", { user: "admin", address: "10.0.0.2", verified: false, fingerprint: "fp" });
    }
    const res = await (await post(a, "/sessions", {
      user: "admin",
      address: "10.0.0.2",
      verified: true,
      fingerprint: "fp",
    })).json();
    expect(res.data.outcome).toBe("wait");
    expect(res.data.retry_after).toBeGreaterThan(0);
  });

  test("a bad body is 400", async () => {
    const { app: a } = app();
    expect((await post(a, "/sessions/check", {})).status).toBe(400);
    expect(
      (await post(a, "/sessions", { user: "admin", address: "x", verified: "yes", fingerprint: "fp" }))
        .status,
    ).toBe(400);
  });
});

describe("the session store's log", () => {
  test("Redis refusing writes (out of memory): the failure is logged, the session's CSRF token and fingerprint are not", async () => {
    // An Upstash endpoint as SRH and the bridge answer for a Redis at maxmemory; the
    // cache client puts the whole command (the session, as JSON) in its error.
    const full = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        Response.json({ error: "OOM command not allowed when used memory > 'maxmemory'." }, { status: 400 }),
    });
    const logged = spyOn(console, "error").mockImplementation(() => {});
    try {
      const cache = createCache({
        UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${full.port}`,
        UPSTASH_REDIS_REST_TOKEN: "token",
        CACHE_TTL_SECONDS: 300,
        CACHE_TIMEOUT_MS: 2000,
      });
      const store = sessionStore({ kv: cache.kv, retryMs: 60_000 });
      const s = await store.create("admin", "fingerprint-0f1e2d3c4b5a");
      store.close();
      const text = logged.mock.calls.map((args) => args.join(" ")).join("\n");
      expect(text).toContain("session store: Redis write failed");
      expect(text).toContain("OOM command not allowed");
      for (const secret of [s.csrf, s.fingerprint, s.id, "admin-session:"]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      logged.mockRestore();
      full.stop(true);
    }
  });
});
