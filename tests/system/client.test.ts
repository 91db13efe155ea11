// The toy-store lab's load client (client/README.md) against the real stack
// through HAProxy: query random toys (some unknown), buy with p = 0.5, then check
// every order it placed. A short pass, so the suite stays quick.
import { expect, test } from "bun:test";
import { runClient } from "../../client/src/index.ts";
import { store } from "./http.ts";

test("a short run of the load client: no unexpected error, every order verified", async () => {
  // Bounded by iterations as well as time: unbounded, a few seconds at full speed
  // would buy whole toys out and leave later tests' seeded stock empty.
  const report = await runClient({
    url: store(),
    sessions: 6,
    iterations: 60,
    p: 0.5,
    duration: 5,
    timeout: 5,
    seed: 20240601,
    quiet: true,
  });
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.total.error_count).toBe(0);
  expect(report.error_samples).toEqual({});
  // It did real work: queries of known and unknown toys, purchases, and the check.
  expect(report.requests.query.outcomes.ok).toBeGreaterThan(0);
  expect(report.requests.query.outcomes.not_found).toBeGreaterThan(0);
  expect(report.orders.placed).toBeGreaterThan(0);
  expect(report.orders.verified).toBe(report.orders.placed);
  expect(report.orders.unverified).toBe(0);
  expect(report.orders.mismatched).toBe(0);
  expect(report.mismatches).toEqual([]);
}, 30_000);
