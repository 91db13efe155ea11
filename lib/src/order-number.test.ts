import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { OrderKey, orderKey, PublicFromKey, PublicOrderNumber, publicOrderNumber } from "./order-number.ts";

describe("order numbers", () => {
  test("the first order (database key 1) is number 0, and the two are each other's inverse", () => {
    expect(publicOrderNumber(1)).toBe(0);
    expect(orderKey(0)).toBe(1);
    for (const n of [0, 1, 41, 2 ** 40]) expect(publicOrderNumber(orderKey(n))).toBe(n);
  });

  test("a key from an internal API becomes its public number; 0 or less is no key", () => {
    expect(v.parse(PublicFromKey, 1)).toBe(0);
    expect(v.parse(PublicFromKey, 42)).toBe(41);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) expect(v.is(OrderKey, bad)).toBe(false);
  });

  test("a public number in a path is 0 or more, digits only", () => {
    expect(v.parse(PublicOrderNumber, "0")).toBe(0);
    expect(v.parse(PublicOrderNumber, "7")).toBe(7);
    for (const bad of ["", "-1", "01", "1.5", "1e3", " 1", "abc", "12345678901234567"]) {
      expect({ bad, ok: v.is(PublicOrderNumber, bad) }).toEqual({ bad, ok: false });
    }
  });

  test("the largest number whose key is still a safe integer is accepted, the next is too large", () => {
    // 16 digits pass the pattern; the key (number + 1) must stay a safe integer.
    const largest = String(Number.MAX_SAFE_INTEGER - 1);
    expect(v.parse(PublicOrderNumber, largest)).toBe(Number.MAX_SAFE_INTEGER - 1);
    const tooLarge = v.safeParse(PublicOrderNumber, String(Number.MAX_SAFE_INTEGER));
    expect(tooLarge.success).toBe(false);
    expect(tooLarge.issues?.[0].message).toBe("is too large");
  });
});
