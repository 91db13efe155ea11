import { afterEach, describe, expect, test } from "bun:test";
import { buildServices, type Context } from "./services.ts";
import { testContext } from "./testing.ts";

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
