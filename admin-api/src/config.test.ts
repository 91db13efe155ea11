import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "@bazaar/lib/config.ts";
import { AdminApiEnv, restockPlan } from "./config.ts";

const BASE = {
  DB_USER: "bazaar_admin",
  DB_PASSWORD: "a-password-of-our-own",
  UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079",
  UPSTASH_REDIS_REST_TOKEN: "a-token-of-our-own",
  ADMIN_API_TOKEN: "an-admin-api-token",
};
const plan = (env: Record<string, string>) => restockPlan(loadConfig(AdminApiEnv, { ...BASE, ...env }));

describe("restocking config (RESTOCK_EVERY_S, RESTOCK_TO)", () => {
  test("off by default: neither set, or both empty as compose passes an unset ${NAME:-}", () => {
    expect(plan({})).toBeNull();
    expect(plan({ RESTOCK_EVERY_S: "", RESTOCK_TO: "" })).toBeNull();
  });

  test("both set: a round every RESTOCK_EVERY_S seconds, up to RESTOCK_TO", () => {
    expect(plan({ RESTOCK_EVERY_S: "10", RESTOCK_TO: "100" })).toEqual({ everyMs: 10_000, to: 100 });
    expect(plan({ RESTOCK_EVERY_S: "1", RESTOCK_TO: "1" })).toEqual({ everyMs: 1000, to: 1 });
    expect(plan({ RESTOCK_EVERY_S: "86400", RESTOCK_TO: "1000000" })).toEqual({
      everyMs: 86_400_000,
      to: 1_000_000,
    });
  });

  test("only one of them stops the start, naming the one missing", () => {
    expect(() => plan({ RESTOCK_EVERY_S: "10" })).toThrow(ConfigError);
    expect(() => plan({ RESTOCK_EVERY_S: "10" })).toThrow(
      "RESTOCK_TO: is required when RESTOCK_EVERY_S is set (set both to restock, or neither)",
    );
    expect(() => plan({ RESTOCK_TO: "100", RESTOCK_EVERY_S: "" })).toThrow(
      "RESTOCK_EVERY_S: is required when RESTOCK_TO is set",
    );
  });

  test("out of range or not a whole number is refused with the variable's name", () => {
    for (
      const [env, message] of [
        [{ RESTOCK_EVERY_S: "0", RESTOCK_TO: "100" }, "RESTOCK_EVERY_S: must be at least 1"],
        [{ RESTOCK_EVERY_S: "86401", RESTOCK_TO: "100" }, "RESTOCK_EVERY_S: must be at most 86400"],
        [{ RESTOCK_EVERY_S: "1.5", RESTOCK_TO: "100" }, "RESTOCK_EVERY_S: must be a whole number"],
        [{ RESTOCK_EVERY_S: "10s", RESTOCK_TO: "100" }, "RESTOCK_EVERY_S: must be a whole number"],
        [{ RESTOCK_EVERY_S: "10", RESTOCK_TO: "0" }, "RESTOCK_TO: must be at least 1"],
        [{ RESTOCK_EVERY_S: "10", RESTOCK_TO: "1000001" }, "RESTOCK_TO: must be at most 1000000"],
        [{ RESTOCK_EVERY_S: "10", RESTOCK_TO: "-5" }, "RESTOCK_TO: must be a whole number"],
      ] as const
    ) {
      expect(() => plan(env)).toThrow(message);
    }
  });
});
