import { expect, test } from "bun:test";
import { latencies } from "./acks.ts";

test("latencies: nearest-rank percentiles of the purchases that were answered, and the failures beside them", () => {
  const ms = Array.from({ length: 100 }, (_, i) => 100 - i);
  expect(latencies(ms, 2)).toEqual({ count: 100, errors: 2, p50: 50, p90: 90, p99: 99, max: 100 });
  expect(latencies([], 3)).toEqual({ count: 0, errors: 3, p50: 0, p90: 0, p99: 0, max: 0 });
});
