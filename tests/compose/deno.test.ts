// Every app runs unchanged on Deno: its src/main.deno.ts (beside the Bun entry
// src/main.ts) starts under `deno run`, listens, answers /healthz, reports what it
// cannot reach on /readyz instead of failing, and stops cleanly on SIGTERM. Nothing
// here needs the stack: the APIs get a database and cache address nobody listens on.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { denoCommand } from "../../local/src/index.ts";
import { APPS } from "../../scripts/build.ts";
import { APP_DIRS, freePort, ROOT, untilLine } from "./support.ts";

// Port 9 (discard) on 127.0.0.1: refused at once, so "down" is quick and certain.
const NOWHERE = "127.0.0.1";
const BACKEND = {
  DB_HOST: NOWHERE,
  DB_PORT: "9",
  DB_USER: "bazaar_api",
  DB_PASSWORD: "unused-password",
  UPSTASH_REDIS_REST_URL: `http://${NOWHERE}:9`,
  UPSTASH_REDIS_REST_TOKEN: "unused-token",
  CACHE_TIMEOUT_MS: "200",
};
const ENV: Record<string, Record<string, string>> = {
  api: { ...BACKEND, API_TOKEN: "deno-test-api-token" },
  "admin-api": { ...BACKEND, DB_USER: "bazaar_admin", ADMIN_API_TOKEN: "deno-test-admin-api-token" },
  web: { API_URL: `http://${NOWHERE}:9`, API_TOKEN: "deno-test-api-token" },
  admin: {
    ADMIN_API_URL: `http://${NOWHERE}:9`,
    ADMIN_API_TOKEN: "deno-test-admin-api-token",
    ADMIN_USER: "admin",
    ADMIN_PASSWORD: "deno-test-password",
    SESSION_SECRET: "deno-test-session-secret-0123456789abcdef",
  },
  bridge: { SRH_TOKEN: "deno-test-token", SRH_CONNECTION_STRING: `redis://${NOWHERE}:9` },
};

const entries = APPS.filter((app) => existsSync(path.join(ROOT, app, "src/main.deno.ts")));

test("every app an image ships has a Deno entry beside its Bun one", () => {
  for (const app of APP_DIRS) {
    expect({ app, bun: existsSync(path.join(ROOT, app, "src/main.ts")), deno: entries.includes(app) })
      .toEqual({ app, bun: true, deno: true });
  }
});

describe("each Deno entry starts under `deno run` unchanged", () => {
  const running: Bun.Subprocess[] = [];
  afterAll(() => running.forEach((p) => p.kill("SIGKILL")));

  for (const app of entries) {
    test(`${app}: listens (runtime deno), answers /healthz, stops on SIGTERM`, async () => {
      const port = await freePort();
      const proc = Bun.spawn(denoCommand(app), {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH!,
          HOME: process.env.HOME ?? "/root",
          PORT: String(port),
          HOST: "127.0.0.1",
          ...ENV[app],
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      running.push(proc);
      const out = await untilLine(proc.stdout, "listening");
      if (!out) {
        throw new Error(`${app} did not start under Deno:\n${await new Response(proc.stderr).text()}`);
      }
      const line = JSON.parse(out.split("\n").find((l) => l.includes("listening"))!);
      expect(line).toMatchObject({ service: app, runtime: "deno" });

      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      if (app === "api" || app === "admin-api") {
        // Up without its database: it says so on /readyz instead of failing to start.
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({ data: { database: "down", cache: "down" } });
      }
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    }, 40_000);
  }
});
