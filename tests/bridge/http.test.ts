// The wire protocol as SRH speaks it: statuses, error bodies, base64, RESP2 shapes.
import { describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { TOKEN, useBridge } from "./support.ts";

const ctx = useBridge();

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(ctx.bridge.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const answer = async (res: Response) => ({
  status: res.status,
  type: res.headers.get("content-type"),
  body: await res.json(),
});

describe("authorization", () => {
  test("a wrong token is 401 Invalid token", async () => {
    expect(await answer(await post("/", ["PING"], { authorization: "Bearer wrong" }))).toEqual({
      status: 401,
      type: "application/json",
      body: { error: "Invalid token" },
    });
    const client = new Redis({ url: ctx.bridge.url, token: "wrong", enableTelemetry: false });
    await expect(client.get("k")).rejects.toThrow(/Invalid token/);
  });

  test("a missing or malformed header is 400, as in SRH", async () => {
    const missing = await fetch(ctx.bridge.url + "/pipeline", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[]",
    });
    expect(await answer(missing)).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "Missing/Invalid authorization header" },
    });
    for (const authorization of ["Basic abc", `bearer ${TOKEN}`, `Bearer  ${TOKEN}`, "Bearer"]) {
      expect((await answer(await post("/", ["PING"], { authorization }))).status).toBe(400);
    }
  });
});

describe("request bodies", () => {
  test("malformed JSON is 400 with an error body", async () => {
    expect(await answer(await post("/", '["SET", "k"'))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "Invalid JSON body." },
    });
    expect((await post("/pipeline", "{nope")).status).toBe(400);
    expect((await post("/multi-exec", "")).status).toBe(400);
  });

  test("a body that is not a command array is 400 with SRH's message", async () => {
    for (const body of [{ cmd: "GET" }, [], ["GET", { k: 1 }], '"GET"', "null"]) {
      expect(await answer(await post("/", body))).toEqual({
        status: 400,
        type: "application/json",
        body: {
          error: "Invalid command array. Expected a string array at root of the command and its arguments.",
        },
      });
    }
    for (const path of ["/pipeline", "/multi-exec"]) {
      expect((await answer(await post(path, ["GET", "k"]))).body).toEqual({
        error: "Invalid command array. Expected an array of string arrays at root.",
      });
    }
  });

  test("a POST that is not application/json is 400", async () => {
    const res = await post("/", ["PING"], { "content-type": "text/plain" });
    expect(await answer(res)).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "Invalid content type. Expected application/json." },
    });
  });

  test("numbers in a command are sent as their decimal text", async () => {
    expect((await answer(await post("/", ["SET", "num", 12.5]))).body).toEqual({ result: "OK" });
    expect((await answer(await post("/", ["INCRBYFLOAT", "num", 1]))).body).toEqual({ result: "13.5" });
  });
});

describe("routes", () => {
  test("GET / is SRH's welcome, without a token", async () => {
    expect(await answer(await fetch(ctx.bridge.url + "/"))).toEqual({
      status: 200,
      type: "application/json",
      body: "Welcome to Serverless Redis HTTP!",
    });
  });

  test("anything else is SRH's 404 (no GET /get/key form: SRH has none)", async () => {
    const res = await fetch(ctx.bridge.url + "/get/k", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await answer(res)).toEqual({
      status: 404,
      type: "application/json",
      body: { error: "SRH: Endpoint not found. SRH might not support this feature yet." },
    });
  });
});

describe("results", () => {
  test("a Redis error on POST / is 400 with the error text", async () => {
    await post("/", ["SET", "str", "x"]);
    expect(await answer(await post("/", ["LPUSH", "str", "a"]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    });
    expect((await answer(await post("/", ["NOSUCHCOMMAND"]))).body.error).toStartWith(
      "ERR unknown command 'NOSUCHCOMMAND'",
    );
  });

  test("base64 encodes every string, at any depth, and leaves numbers and nulls", async () => {
    await post("/", ["RPUSH", "l", "ä", "😀"]);
    const res = await post("/pipeline", [
      ["SET", "s", "中文"],
      ["GET", "s"],
      ["LRANGE", "l", 0, -1],
      ["LLEN", "l"],
      ["GET", "none"],
      ["EVAL", "return {1, false, {'x', 2}}", 0],
    ], { "upstash-encoding": "base64" });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(await res.json()).toEqual([
      { result: b64("OK") },
      { result: b64("中文") },
      { result: [b64("ä"), b64("😀")] },
      { result: 2 },
      { result: null },
      { result: [1, null, [b64("x"), 2]] },
    ]);
  });

  test("binary values are byte-exact under base64", async () => {
    const res = await post("/", ["EVAL", "return string.char(255, 0, 1, 128)", 0], {
      "upstash-encoding": "base64",
    });
    expect(await res.json()).toEqual({ result: Buffer.from([255, 0, 1, 128]).toString("base64") });
  });

  test("replies are RESP2-shaped: flat arrays for maps, strings for doubles", async () => {
    await post("/", ["HSET", "h", "f", "v", "2", "two"]);
    await post("/", ["ZADD", "z", "1.5", "a", "3", "b"]);
    const res = await post("/pipeline", [
      ["HGETALL", "h"],
      ["ZSCORE", "z", "b"],
      ["ZRANGE", "z", 0, -1, "WITHSCORES"],
      ["CONFIG", "GET", "maxmemory-policy"],
      ["EVAL", "return true", 0],
    ]);
    expect(await res.json()).toEqual([
      { result: ["f", "v", "2", "two"] },
      { result: "3" },
      { result: ["a", "1.5", "b", "3"] },
      { result: ["maxmemory-policy", "noeviction"] },
      { result: 1 },
    ]);
  });

  test("multi-exec answers per command; a command rejected while queueing aborts all, as EXECABORT", async () => {
    expect(await (await post("/multi-exec", [["SET", "t", "1"], ["INCR", "t"], ["LPUSH", "t", "x"]])).json())
      .toEqual([
        { result: "OK" },
        { result: 2 },
        { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
      ]);
    expect(await answer(await post("/multi-exec", [["SET", "t", "9"], ["INCR"]]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "EXECABORT Transaction discarded because of previous errors." },
    });
    expect((await answer(await post("/", ["GET", "t"]))).body).toEqual({ result: "2" });
    expect(await (await post("/multi-exec", [])).json()).toEqual([]);
  });

  test("commands that would change a shared connection are refused", async () => {
    expect(await answer(await post("/", ["multi"]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "ERR Command is not available: 'multi'. Use /multi-exec for transactions." },
    });
    expect(await (await post("/pipeline", [["SELECT", "1"], ["PING"]])).json()).toEqual([{
      error: "ERR Command is not available: 'SELECT'.",
    }, { result: "PONG" }]);
    expect((await post("/multi-exec", [["SUBSCRIBE", "c"]])).status).toBe(400);
    expect((await post("/", ["CLIENT", "REPLY", "OFF"])).status).toBe(400);
    // The shared connection still answers in order.
    expect((await answer(await post("/", ["ECHO", "still fine"]))).body).toEqual({ result: "still fine" });
  });
});
