import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requestIdKeyMap } from "@bazaar/lib/request-id.ts";
import { writeRequestIdKeyMap } from "./request-id-key.ts";
import { buildServices, type Context } from "./services.ts";
import { TEST_SECRETS, testContext } from "./testing.ts";

const ctx = (appEnv: Record<string, string | undefined> = {}) => testContext({ appEnv });
const envOf = (c: Context, name: string) => buildServices(c).find((s) => s.name === name)!.command().env;

describe("the timed restocking reaches admin-api in the local stack", () => {
  const saved = { every: process.env.RESTOCK_EVERY_S, to: process.env.RESTOCK_TO };
  afterEach(() => {
    process.env.RESTOCK_EVERY_S = saved.every;
    process.env.RESTOCK_TO = saved.to;
    if (saved.every === undefined) delete process.env.RESTOCK_EVERY_S;
    if (saved.to === undefined) delete process.env.RESTOCK_TO;
  });

  test("from the environment bun run local was started with (the shell, or .env)", () => {
    process.env.RESTOCK_EVERY_S = "10";
    process.env.RESTOCK_TO = "100";
    expect(envOf(ctx(), "admin-api")).toMatchObject({ RESTOCK_EVERY_S: "10", RESTOCK_TO: "100" });
  });

  test("from a caller's extra app variables (startStack's appEnv)", () => {
    delete process.env.RESTOCK_EVERY_S;
    delete process.env.RESTOCK_TO;
    expect(envOf(ctx({ RESTOCK_EVERY_S: "2", RESTOCK_TO: "7" }), "admin-api")).toMatchObject({
      RESTOCK_EVERY_S: "2",
      RESTOCK_TO: "7",
    });
    const off = envOf(ctx(), "admin-api");
    expect(off.RESTOCK_EVERY_S).toBeUndefined();
    expect(off.RESTOCK_TO).toBeUndefined();
  });
});

describe("the request-id key in the local stack", () => {
  test("every web server gets it; the proxy gets the map file the launcher wrote (none given: no REQUEST_ID_KEY_MAP)", () => {
    const c = testContext({ requestIdKeyMap: "/data/run/request-id-key.map" });
    for (const web of ["web-1", "web-2"]) {
      expect(envOf(c, web).REQUEST_ID_KEY).toBe(TEST_SECRETS.REQUEST_ID_KEY);
    }
    expect(envOf(c, "proxy").REQUEST_ID_KEY_MAP).toBe("/data/run/request-id-key.map");
    expect(envOf(c, "proxy").REQUEST_ID_KEY).toBeUndefined();
    expect(envOf(testContext(), "proxy").REQUEST_ID_KEY_MAP).toBeUndefined();
    for (const other of ["api", "admin-1", "admin-api"]) {
      expect(envOf(c, other).REQUEST_ID_KEY).toBeUndefined();
    }
  });

  test("the map file holds the key as HAProxy reads it, for the launcher's user only", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "request-id-key-"));
    try {
      const file = writeRequestIdKeyMap(path.join(dir, "run"), "a-key-of-forty-characters-0123456789abcd");
      expect(readFileSync(file, "utf8")).toBe(requestIdKeyMap("a-key-of-forty-characters-0123456789abcd"));
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
