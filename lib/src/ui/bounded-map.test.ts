import { expect, test } from "bun:test";
import { boundedMap } from "./bounded-map.ts";

test("keeps what fits, dropping the least recently used first", () => {
  const m = boundedMap<string, number>(30);
  m.set("a", 1, 10);
  m.set("b", 2, 10);
  m.set("c", 3, 10);
  expect(m.get("a")).toBe(1); // a is now the newest
  m.set("d", 4, 10); // over 30: b, the least recently used, goes
  expect(m.get("b")).toBeUndefined();
  expect([m.get("a"), m.get("c"), m.get("d")]).toEqual([1, 3, 4]);
  expect(m.usage()).toEqual({ entries: 3, bytes: 30 });
});

test("a value set again is counted once, at its new size", () => {
  const m = boundedMap<string, string>(100);
  m.set("a", "x", 40);
  m.set("a", "y", 50);
  expect(m.usage()).toEqual({ entries: 1, bytes: 50 });
  m.delete("a");
  expect(m.usage()).toEqual({ entries: 0, bytes: 0 });
});

test("one value larger than the whole budget is kept alone, never dropped as it is set", () => {
  const m = boundedMap<string, string>(10);
  m.set("a", "x", 5);
  m.set("big", "y", 50);
  expect(m.get("big")).toBe("y");
  expect(m.get("a")).toBeUndefined();
});
