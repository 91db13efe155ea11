// Who may do what to the stack's Redis: a client must give its password, the cache's
// REST endpoint (the bridge) passes on only the commands the apps send — no CONFIG,
// SHUTDOWN, DEBUG or FLUSHALL for a holder of its token — and redis-server does not
// run as root.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { directRedis, redisUrl } from "./redis.ts";
import { env, stack } from "./stack.ts";

const redis = directRedis();
afterAll(() => redis.close());

/** One command through the cache's REST endpoint with its token (SRH's protocol). */
const endpoint = async (command: (string | number)[], path = "/") => {
  const res = await fetch(`${env("CACHE_URL")}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env("CACHE_TOKEN")}`, "Content-Type": "application/json" },
    body: JSON.stringify(command),
  });
  return { status: res.status, body: await res.json() as { result?: unknown; error?: string } };
};

describe("Redis asks for its password", () => {
  test("a client without it, or with a wrong one, is refused; with REDIS_PASSWORD it is served", async () => {
    for (const url of [redisUrl(""), redisUrl("not-the-password")]) {
      const stranger = directRedis(url);
      try {
        await expect(stranger.command("GET", "catalog:gen")).rejects.toThrow(
          /NOAUTH|WRONGPASS|Unable to connect/,
        );
        await expect(stranger.command("CONFIG", "GET", "dir")).rejects.toThrow();
      } finally {
        stranger.close();
      }
    }
    expect(await redis.command("PING")).toBe("PONG");
  });

  test("redis-server does not run as root (started by root: the redis account)", () => {
    const pid = stack().pid("redis")!;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
    if (process.getuid?.() === 0) expect(uid).not.toBe(0);
    else expect(uid).toBe(process.getuid!());
    // Its password is on no command line another local user could read.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(env("REDIS_PASSWORD"));
  });
});

describe("the cache's REST endpoint passes on only what the apps send", () => {
  test("CONFIG, SHUTDOWN, DEBUG, FLUSHALL, SAVE and KEYS are refused with SRH's error shape, and never reach Redis", async () => {
    await redis.command("SET", "redis-access:kept", "yes");
    for (
      const command of [
        ["CONFIG", "GET", "dir"],
        ["CONFIG", "SET", "dir", "/tmp"],
        ["SAVE"],
        ["SHUTDOWN", "NOSAVE"],
        ["DEBUG", "SLEEP", "0"],
        ["FLUSHALL"],
        ["KEYS", "*"],
      ]
    ) {
      const { status, body } = await endpoint(command);
      expect({ command, status, error: body.error?.split(".")[0] }).toEqual({
        command,
        status: 400,
        error: `ERR Command is not available: '${command[0]}'`,
      });
      expect(JSON.stringify(body)).not.toContain(stack().dataDir);
    }
    // In a pipeline each refused entry alone; in a transaction the whole of it.
    const piped = await endpoint([["FLUSHALL"], ["GET", "redis-access:kept"]] as never, "/pipeline");
    expect(piped.body as unknown).toEqual([{ error: expect.stringContaining("not available: 'FLUSHALL'") }, {
      result: "yes",
    }]);
    expect((await endpoint([["FLUSHALL"]] as never, "/multi-exec")).status).toBe(400);
    // Redis is still up, with its data and its directory as they were.
    expect(await redis.get("redis-access:kept")).toBe("yes");
    expect(stack().running("redis")).toBe(true);
  });

  test("what the apps send still works: GET, SET, DEL, EVAL, TIME, PING", async () => {
    expect((await endpoint(["SET", "redis-access:k", "v", "EX", 60])).body).toEqual({ result: "OK" });
    expect((await endpoint(["GET", "redis-access:k"])).body).toEqual({ result: "v" });
    expect((await endpoint(["EVAL", "return redis.call('GET', KEYS[1])", 1, "redis-access:k"])).body).toEqual(
      {
        result: "v",
      },
    );
    expect((await endpoint(["DEL", "redis-access:k"])).body).toEqual({ result: 1 });
    expect((await endpoint(["PING"])).body).toEqual({ result: "PONG" });
    expect((await endpoint(["TIME"])).status).toBe(200);
  });
});
