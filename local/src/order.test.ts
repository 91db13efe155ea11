// The start order follows from what each service needs.
import { describe, expect, test } from "bun:test";
import { startGroups } from "./order.ts";
import { buildServices } from "./services.ts";
import { testContext } from "@bazaar/testutil/launcher.ts";

describe("startGroups", () => {
  test("those whose needs are met start together, in the table's order; none before what it needs", () => {
    expect(startGroups([
      { name: "db", needs: [] },
      { name: "api", needs: ["db", "cache"] },
      { name: "redis", needs: [] },
      { name: "cache", needs: ["redis"] },
    ])).toEqual([["db", "redis"], ["cache"], ["api"]]);
  });

  test("a need of no service, or a circle of needs, is refused naming them", () => {
    expect(() => startGroups([{ name: "api", needs: ["dbb"] }])).toThrow("api needs dbb: no such service");
    expect(() => startGroups([{ name: "a", needs: ["b"] }, { name: "b", needs: ["a"] }])).toThrow(
      "these services need each other: a, b",
    );
  });

  test("the stack's: databases first, the proxy last, each tier's servers together", () => {
    const groups = startGroups(buildServices(testContext({ servers: { web: 3, admin: 1 } })));
    expect(groups).toEqual([
      ["db", "redis"],
      ["cache"],
      ["api", "admin-api"],
      ["web-1", "web-2", "web-3", "admin-1"],
      ["proxy"],
    ]);
  });
});
