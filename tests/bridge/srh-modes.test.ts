// The entry standing in for SRH's image in compose: SRH_MODE=file reads tokens.json
// (what --init-secrets writes; several tokens, each to its own Redis) and it listens
// on SRH_PORT when PORT is not set.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, RedisServer } from "./support.ts";

let one: RedisServer;
let two: RedisServer;
const dir = mkdtempSync(path.join(tmpdir(), "srh-modes-"));
beforeAll(async () => {
  [one, two] = await Promise.all([RedisServer.start(), RedisServer.start()]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const entry = new URL("../../bridge/src/main.ts", import.meta.url).pathname;

/** POST one command with a token, once the bridge answers. */
async function send(port: number, token: string, command: string[]) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(command),
    }).catch(() => undefined);
    if (res) return { status: res.status, body: await res.json() };
    await Bun.sleep(50);
  }
  throw new Error("the bridge did not answer");
}

test("file mode: each token of tokens.json reaches its own Redis, on SRH_PORT", async () => {
  const file = path.join(dir, "tokens.json");
  writeFileSync(
    file,
    JSON.stringify({
      "token-one-0123456789": { srh_id: "one", connection_string: one.url, max_connections: 3 },
      "token-two-0123456789": { srh_id: "two", connection_string: two.url, max_connections: 3 },
    }),
  );
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOST: "127.0.0.1",
    SRH_MODE: "file",
    SRH_CONFIG_FILE: file,
    SRH_PORT: String(port),
  };
  delete env.PORT;
  delete env.SRH_TOKEN;
  const proc = Bun.spawn(["bun", entry], { env, stdout: "pipe", stderr: "pipe" });
  try {
    expect(await send(port, "token-one-0123456789", ["SET", "where", "one"])).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect(await send(port, "token-two-0123456789", ["SET", "where", "two"])).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect(await send(port, "token-one-0123456789", ["GET", "where"])).toEqual({
      status: 200,
      body: { result: "one" },
    });
    expect(await send(port, "token-two-0123456789", ["GET", "where"])).toEqual({
      status: 200,
      body: { result: "two" },
    });
    expect(await send(port, "token-three-012345678", ["GET", "where"])).toEqual({
      status: 401,
      body: { error: "Invalid token" },
    });
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(0);
});

test("file mode with an unreadable tokens.json exits 1 naming SRH_CONFIG_FILE", async () => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    SRH_MODE: "file",
    SRH_CONFIG_FILE: path.join(dir, "nope.json"),
    SRH_PORT: String(await freePort()),
  };
  const proc = Bun.spawn(["bun", entry], { env, stdout: "pipe", stderr: "pipe" });
  expect(await proc.exited).toBe(1);
  expect(await new Response(proc.stderr).text()).toContain(
    `SRH_CONFIG_FILE: cannot read ${path.join(dir, "nope.json")} (ENOENT)`,
  );
});
