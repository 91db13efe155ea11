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
    expect((await answer(await post("/", ["GET", "num"]))).body).toEqual({ result: "12.5" });
    expect((await answer(await post("/", ["EVAL", "return ARGV[1]", 0, 7]))).body).toEqual({ result: "7" });
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
    expect(await answer(await post("/", ["SET", "str", "x", "EX", "soon"]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "ERR value is not an integer or out of range" },
    });
    expect((await answer(await post("/", ["EVALSHA", "0".repeat(40), 0]))).body.error).toStartWith(
      "NOSCRIPT",
    );
  });

  test("base64 encodes every string, at any depth, and leaves numbers and nulls", async () => {
    const res = await post("/pipeline", [
      ["SET", "s", "中文"],
      ["GET", "s"],
      ["EVAL", "return {'ä', '😀'}", 0],
      ["DEL", "s", "none"],
      ["GET", "none"],
      ["EVAL", "return {1, false, {'x', 2}}", 0],
    ], { "upstash-encoding": "base64" });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(await res.json()).toEqual([
      { result: b64("OK") },
      { result: b64("中文") },
      { result: [b64("ä"), b64("😀")] },
      { result: 1 },
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

  test("replies are RESP2-shaped: flat arrays for maps, strings for doubles, 1 for true", async () => {
    const res = await post("/pipeline", [
      [
        "EVAL",
        "redis.call('HSET', KEYS[1], 'f', 'v', '2', 'two') return redis.call('HGETALL', KEYS[1])",
        1,
        "h",
      ],
      [
        "EVAL",
        "redis.call('ZADD', KEYS[1], 1.5, 'a', 3, 'b') return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
        1,
        "z",
      ],
      ["EVAL", "return true", 0],
      ["TIME"],
    ]);
    const [hash, scores, yes, time] = (await res.json()) as { result: unknown }[];
    expect([hash, scores, yes]).toEqual([
      { result: ["f", "v", "2", "two"] },
      { result: ["a", "1.5", "b", "3"] },
      { result: 1 },
    ]);
    expect(time!.result).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
  });

  test("multi-exec answers per command; a command rejected while queueing aborts all, as EXECABORT", async () => {
    const incr = "return redis.call('INCR', KEYS[1])";
    expect(
      await (await post("/multi-exec", [["SET", "t", "1"], ["EVAL", incr, 1, "t"], [
        "SET",
        "t",
        "x",
        "EX",
        "soon",
      ]]))
        .json(),
    ).toEqual([
      { result: "OK" },
      { result: 2 },
      { error: "ERR value is not an integer or out of range" },
    ]);
    expect(await answer(await post("/multi-exec", [["SET", "t", "9"], ["GET"]]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: "EXECABORT Transaction discarded because of previous errors." },
    });
    expect((await answer(await post("/", ["GET", "t"]))).body).toEqual({ result: "2" });
    expect(await (await post("/multi-exec", [])).json()).toEqual([]);
  });

  test("a command the apps do not send is refused: 400 with SRH's error shape, per entry in a pipeline, the whole transaction in multi-exec", async () => {
    const notAvailable = (name: string) =>
      `ERR Command is not available: '${name}'. This endpoint passes only GET, SET, DEL, EVAL, EVALSHA, TIME, PING.`;
    await post("/", ["SET", "kept", "yes"]);
    for (
      const command of [
        ["CONFIG", "GET", "dir"],
        ["CONFIG", "SET", "dir", "/tmp"],
        ["FLUSHALL"],
        ["SHUTDOWN", "NOSAVE"],
        ["DEBUG", "SLEEP", "0"],
        ["SAVE"],
        ["KEYS", "*"],
      ]
    ) {
      expect(await answer(await post("/", command))).toEqual({
        status: 400,
        type: "application/json",
        body: { error: notAvailable(command[0]!) },
      });
    }
    expect(await answer(await post("/", ["multi"]))).toEqual({
      status: 400,
      type: "application/json",
      body: {
        error:
          "ERR Command is not available: 'multi'. Use /multi-exec for transactions. This endpoint passes only GET, SET, DEL, EVAL, EVALSHA, TIME, PING.",
      },
    });
    expect(await (await post("/pipeline", [["SELECT", "1"], ["PING"], ["FLUSHDB"], ["GET", "kept"]])).json())
      .toEqual([{ error: notAvailable("SELECT") }, { result: "PONG" }, { error: notAvailable("FLUSHDB") }, {
        result: "yes",
      }]);
    expect(await answer(await post("/multi-exec", [["SET", "kept", "no"], ["FLUSHALL"]]))).toEqual({
      status: 400,
      type: "application/json",
      body: { error: notAvailable("FLUSHALL") },
    });
    // Nothing of it ran, and the shared connection still answers in order.
    expect((await answer(await post("/", ["GET", "kept"]))).body).toEqual({ result: "yes" });
    expect((await answer(await post("/", ["PING"]))).body).toEqual({ result: "PONG" });
  });

  test("Redis refuses the administrative commands inside a script by itself", async () => {
    const res = await answer(await post("/", ["EVAL", "return redis.call('CONFIG', 'GET', 'dir')", 0]));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("This Redis command is not allowed from script");
  });
});
