import { describe, expect, test } from "bun:test";
import { KindStats, LatencyRecorder, percentile } from "./stats.ts";

describe("nearest-rank percentiles", () => {
  test("match the textbook example (15, 20, 35, 40, 50)", () => {
    const s = [15, 20, 35, 40, 50];
    expect(percentile(s, 5)).toBe(15);
    expect(percentile(s, 30)).toBe(20);
    expect(percentile(s, 40)).toBe(20);
    expect(percentile(s, 50)).toBe(35);
    expect(percentile(s, 100)).toBe(50);
  });

  test("on 1..100 the pth percentile is p", () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 90, 99, 100].map((p) => percentile(s, p))).toEqual([50, 90, 99, 100]);
  });

  test("are always a recorded value, never an interpolation", () => {
    const s = [1, 10];
    expect(percentile(s, 50)).toBe(1);
    expect(percentile(s, 51)).toBe(10);
    expect(percentile(s, 0)).toBe(1);
  });

  test("of no samples are null, of one sample are that sample", () => {
    expect(percentile([], 50)).toBeNull();
    expect([50, 90, 99, 100].map((p) => percentile([7], p))).toEqual([7, 7, 7, 7]);
  });

  test("reject a p outside 0..100", () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], NaN)).toThrow(RangeError);
  });
});

describe("latency recorder", () => {
  test("summarises unsorted samples numerically (10 after 9, not after 1)", () => {
    const r = new LatencyRecorder();
    for (const x of [10, 9, 1, 2, 3, 4, 5, 6, 7, 8]) r.record(x);
    expect(r.summary()).toEqual({ count: 10, p50: 5, p90: 9, p99: 10, max: 10 });
  });

  test("keeps every sample past its initial capacity", () => {
    const r = new LatencyRecorder();
    for (let i = 5000; i >= 1; i--) r.record(i);
    expect(r.summary()).toEqual({ count: 5000, p50: 2500, p90: 4500, p99: 4950, max: 5000 });
  });

  test("is empty until something is recorded", () => {
    expect(new LatencyRecorder().summary()).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
  });
});

describe("request counters", () => {
  test("count outcomes and errors by kind, keeping the first message of each kind", () => {
    const k = new KindStats();
    k.outcome("ok");
    k.outcome("not_found");
    k.error("status 503", "first");
    k.error("status 503", "second");
    k.error("timeout", "slow");
    expect(k.count).toBe(5);
    expect(k.outcomes).toEqual({ ok: 1, not_found: 1, out_of_stock: 0 });
    expect(Object.fromEntries(k.errors)).toEqual({ "status 503": 2, timeout: 1 });
    expect(k.errorSamples.get("status 503")).toBe("first");
    expect(k.errorCount).toBe(3);
  });

  test("throughput is requests over the span of activity", () => {
    const k = new KindStats();
    for (let i = 0; i < 10; i++) k.outcome("ok");
    k.span(1000, 1500);
    k.span(1200, 3000);
    expect(k.throughput()).toBe(5);
  });
});
