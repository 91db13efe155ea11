import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Cache } from "./cache.ts";
import type { Db } from "./db.ts";
import type { HonoEnv } from "../log.ts";
import { createServiceApp } from "./service.ts";

// Only what health asks of them; the routes under test use neither.
const db = { ping: async () => false } as unknown as Db;
const cache = { status: async () => "up" } as unknown as Cache;

function setup() {
  const logged: Record<string, unknown>[] = [];
  const app = createServiceApp(
    { service: "svc", token: "secret-token", db, cache, log: (entry) => logged.push(entry) },
    new Hono<HonoEnv>().get("/things", (c) => c.json({ data: { request_id: c.get("requestId") } })),
  );
  return { app, logged };
}
const auth = { Authorization: "Bearer secret-token" };

describe("a service app", () => {
  test("answers /healthz and /readyz without a token", async () => {
    const { app } = setup();
    expect(await (await app.request("/healthz")).json()).toEqual({ data: { status: "ok" } });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ data: { database: "down", cache: "up" } });
  });

  test("refuses its routes without the token, in the error shape", async () => {
    const { app } = setup();
    for (const headers of [{}, { Authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const res = await app.request("/things", { headers });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe(401);
    }
  });

  test("serves its routes with the token, the request id kept and logged", async () => {
    const { app, logged } = setup();
    const res = await app.request("/things", { headers: { ...auth, "X-Request-Id": "abc:1.2_3" } });
    expect(await res.json()).toEqual({ data: { request_id: "abc:1.2_3" } });
    expect(logged.at(-1)).toMatchObject({
      service: "svc",
      request_id: "abc:1.2_3",
      path: "/things",
      status: 200,
    });
  });

  test("an unknown path is a 404 in the error shape", async () => {
    const { app } = setup();
    const res = await app.request("/nowhere", { headers: auth });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 404, message: "not found" } });
  });
});
