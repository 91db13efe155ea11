// The entry: configuration from the environment, serving, and a clean stop.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { freePort, RedisServer } from "./support.ts";

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.close();
});

const entry = new URL("../../bridge/src/main.ts", import.meta.url).pathname;

test("main.ts serves the bridge from SRH_* variables and stops cleanly on SIGTERM", async () => {
  const port = await freePort();
  const proc = Bun.spawn(["bun", entry], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      SRH_TOKEN: "entry-token",
      SRH_CONNECTION_STRING: server.url,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    let res: Response | undefined;
    for (let i = 0; i < 100 && !res; i++) {
      res = await fetch(`http://127.0.0.1:${port}/pipeline`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer entry-token" },
        body: JSON.stringify([["SET", "entry", "ok"], ["GET", "entry"]]),
      }).catch(() => undefined);
      if (!res) await Bun.sleep(50);
    }
    expect(await res?.json()).toEqual([{ result: "OK" }, { result: "ok" }]);
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(0);
});

test("main.ts without SRH_TOKEN exits 1 naming the variable", async () => {
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(await freePort()) };
  delete env.SRH_TOKEN;
  const proc = Bun.spawn(["bun", entry], { env, stdout: "pipe", stderr: "pipe" });
  expect(await proc.exited).toBe(1);
  expect(await new Response(proc.stderr).text()).toContain("SRH_TOKEN: is required");
});
