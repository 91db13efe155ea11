import { expect, test } from "bun:test";
import * as v from "valibot";
import { checkedText } from "./checked-text.ts";

const Thing = v.object({ name: v.pipe(v.string(), v.minLength(1)), n: v.number() });

test("valid text gives the checked value, the same frozen object for the same text", () => {
  const text = JSON.stringify({ name: "Tux", n: 1 });
  const a = checkedText(Thing, text);
  expect(a).toEqual({ name: "Tux", n: 1 });
  expect(checkedText(Thing, text)).toBe(a!);
  expect(Object.isFrozen(a)).toBe(true);
  expect(checkedText(Thing, JSON.stringify({ name: "Tux", n: 2 }))).toEqual({ name: "Tux", n: 2 });
});

test("invalid JSON or data that breaks the schema is undefined, every time", () => {
  for (const text of ["{", JSON.stringify({ name: "", n: 1 }), JSON.stringify({ name: "x" })]) {
    expect(checkedText(Thing, text)).toBeUndefined();
    expect(checkedText(Thing, text)).toBeUndefined();
  }
});

test("a known null is a value, not a miss", () => {
  expect(checkedText(v.nullable(Thing), "null")).toBeNull();
});

test("each schema checks the text itself", () => {
  const text = JSON.stringify({ name: "Tux", n: 1 });
  expect(checkedText(Thing, text)).toEqual({ name: "Tux", n: 1 });
  expect(checkedText(v.object({ name: v.string(), n: v.string() }), text)).toBeUndefined();
});

test("what is remembered is bounded in size: a text too large is checked every time, and large ones start the memo over", () => {
  const Box = v.object({ s: v.string() });
  const big = (c: string, n = 300_000) => JSON.stringify({ s: c.repeat(n) });
  const huge = big("x", 1_000_001);
  expect(checkedText(Box, huge)).not.toBe(checkedText(Box, huge)); // never remembered
  expect(checkedText(Box, huge)).toEqual(checkedText(Box, huge)!);
  const first = checkedText(Box, big("a"));
  expect(checkedText(Box, big("a"))).toBe(first); // remembered
  for (const c of ["b", "c", "d"]) checkedText(Box, big(c)); // 1.2 M characters in all: over
  expect(checkedText(Box, big("a"))).not.toBe(first); // …checked again, a new object
  expect(checkedText(Box, big("a"))).toEqual(first!);
});
