// The api's Bearer check, in-process (testutil/src/route-harness.ts): every route but
// the health checks refuses a call without the web tier's token, before any SQL.
import { beforeEach, describe, expect, test } from "bun:test";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const api = await routeHarness("api");
beforeEach(() => api.reset());

describe("the Bearer token", () => {
  // Another scheme is a malformed Authorization header to hono/bearer-auth: 400.
  test.each([
    ["no token", "", 401],
    ["a wrong token", "Bearer not-the-token", 401],
    ["another scheme", "Basic aGFybmVzcy10b2tlbg==", 400],
  ])("%s: refused, and no order is placed", async (_, authorization, status) => {
    const res = await api.call({
      method: "POST",
      path: "/orders",
      body: { name: "Tux", quantity: 1 },
      headers: { authorization },
    });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code: status } });
    expect(await api.sql("SELECT number FROM orders")).toEqual([]);
  });

  test("the health checks need none: the database up, the cache off", async () => {
    const none = { authorization: "" };
    expect((await api.get("/healthz", none)).status).toBe(200);
    expect((await api.get("/readyz", none)).body).toEqual({ data: { database: "up", cache: "off" } });
  });
});
