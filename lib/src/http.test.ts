import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { OrderRequest } from "./schemas.ts";
import { fail, handleErrors, jsonBody, Unavailable } from "./http.ts";

const logged: Record<string, unknown>[] = [];
const app = handleErrors(
  new Hono()
    .post("/orders", ...jsonBody(OrderRequest), (c) => c.json({ data: c.req.valid("json") }))
    .get("/boom", () => {
      throw new Error("secret stack detail");
    })
    .get("/gone", () => fail(410, "gone for good"))
    .get("/sql", () => {
      // As mysql2 throws it: the statement on `sql`, its values quoted in the message too.
      throw Object.assign(new Error("Duplicate entry 'tok-5ec2e7' for key 'orders_request'"), {
        code: "ER_DUP_ENTRY",
        errno: 1062,
        sqlState: "23000",
        sql: "INSERT INTO orders (request_id) VALUES ('tok-5ec2e7')",
      });
    })
    .get("/cache", () => {
      throw new Unavailable(
        "the cache",
        new Error(
          'OOM command not allowed, command was: [["set","admin-session:x","{\\"csrf\\":\\"tok-5ec2e7\\"}"]]',
        ),
      );
    }),
  { notFoundMessage: "no such route", log: (entry) => logged.push(entry) },
);

const post = (body: string, type = "application/json") =>
  app.request("/orders", { method: "POST", body, headers: { "content-type": type } });

describe("JSON body guard", () => {
  test("a valid body passes through validated", async () => {
    const res = await post('{"name":"Tux","quantity":2,"extra":1}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { name: "Tux", quantity: 2 } });
  });
  test("a bad field is 400 naming it, in the error shape", async () => {
    const res = await post('{"name":"Tux","quantity":"2"}');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 400, message: "quantity: must be a number", fields: { quantity: "must be a number" } },
    });
  });
  test("malformed JSON is 400", async () => {
    const res = await post("{nope");
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(400);
  });
  test("a wrong content type is 415", async () => {
    expect((await post('{"name":"Tux","quantity":1}', "text/plain")).status).toBe(415);
    expect((await post('{"name":"Tux","quantity":1}', "application/x-www-form-urlencoded")).status).toBe(415);
  });
  test("a body over 16 KB is 413", async () => {
    const res = await post(JSON.stringify({ name: "x".repeat(20_000), quantity: 1 }));
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toMatch(/larger than 16384 bytes/);
  });
});

describe("errors", () => {
  test("an unexpected error is a 500 without its details", async () => {
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 500, message: "internal error" } });
    expect(text).not.toContain("secret");
    // The detail goes to the log instead, where an operator can find it.
    expect(logged.at(-1)).toMatchObject({
      level: "error",
      msg: "unhandled error",
      error: "Error: secret stack detail",
      path: "/boom",
    });
  });
  test("a database or cache error is logged by its code or what Redis said, never the statement, command or values in it", async () => {
    expect((await app.request("/sql")).status).toBe(500);
    expect((await app.request("/cache")).status).toBe(503);
    const [sql, cache] = logged.slice(-2);
    expect(sql).toMatchObject({
      msg: "unhandled error",
      error: "Error: ER_DUP_ENTRY (errno 1062)",
      path: "/sql",
    });
    expect(cache).toMatchObject({ msg: "the cache is temporarily unavailable", path: "/cache" });
    expect(cache!.cause).toStartWith("Error: OOM command not allowed");
    expect(JSON.stringify([sql, cache])).not.toContain("tok-5ec2e7");
  });
  test("fail() answers its status and message", async () => {
    expect(await (await app.request("/gone")).json()).toEqual({
      error: { code: 410, message: "gone for good" },
    });
  });
  test("an unknown route is a 404 in the error shape", async () => {
    const res = await app.request("/nowhere");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 404, message: "no such route" } });
  });
});
