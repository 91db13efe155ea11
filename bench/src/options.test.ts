// The bench's flags: the published report is written only when asked.
import { describe, expect, test } from "bun:test";
import { LOCAL_REPORT, parseOptions, PUBLISHED_REPORT } from "./options.ts";

const parse = (...argv: string[]) => {
  const o = parseOptions(argv);
  if (o === "help") throw new Error("help");
  return o;
};

describe("where the report goes", () => {
  test("by default under .local/bench, never over docs/performance.md", () => {
    expect(parse().out).toBe(LOCAL_REPORT);
    expect(parse("--quick", "--no-eval", "--only", "home").out).toBe(LOCAL_REPORT);
    expect(LOCAL_REPORT.startsWith(".local/")).toBe(true);
  });

  test("--write writes the published one; --out a file of your choosing; not both", () => {
    expect(parse("--write").out).toBe(PUBLISHED_REPORT);
    expect(PUBLISHED_REPORT).toBe("docs/performance.md");
    expect(parse("--out", "/tmp/perf.md").out).toBe("/tmp/perf.md");
    expect(() => parse("--write", "--out", "/tmp/perf.md")).toThrow("--write and --out: one or the other");
  });
});

describe("--cluster: the purchases again with three database nodes", () => {
  test("on in the full run, off in a quick one unless asked, off with --no-cluster", () => {
    expect(parse().cluster).toBe(true);
    expect(parse("--quick").cluster).toBe(false);
    expect(parse("--quick", "--cluster").cluster).toBe(true);
    expect(parse("--no-cluster").cluster).toBe(false);
    expect(() => parse("--cluster", "--no-cluster")).toThrow("--cluster and --no-cluster: one or the other");
  });

  test("only when --only names a purchase scenario: off by default without one, refused when asked", () => {
    expect(parse("--only", "orders").cluster).toBe(true);
    expect(parse("--only", "home,mixed").cluster).toBe(true);
    expect(parse("--only", "home,product").cluster).toBe(false);
    expect(() => parse("--only", "home", "--cluster")).toThrow("--only must name orders or mixed");
  });
});
