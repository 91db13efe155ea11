import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import {
  AddItem,
  CorrectItem,
  describeIssues,
  Item,
  ItemName,
  OrderNumber,
  OrderRequest,
  Price,
} from "./schemas.ts";

const fieldsOf = (schema: v.GenericSchema, input: unknown) => {
  const r = v.safeParse(schema, input);
  return r.success ? {} : describeIssues(r.issues).fields;
};

describe("item names", () => {
  test("accepts 1 to 64 characters and trims spaces", () => {
    expect(v.parse(ItemName, "  Tux ")).toBe("Tux");
    expect(v.parse(ItemName, "x".repeat(64))).toHaveLength(64);
    expect(v.parse(ItemName, "Kätzchen 🐱")).toBe("Kätzchen 🐱");
  });
  test("refuses empty, 65 characters, control characters and non-text", () => {
    for (const bad of ["", "   ", "x".repeat(65), "a\u0000b", "line\nbreak", 42, null, ["Tux"]]) {
      expect(v.safeParse(ItemName, bad).success).toBe(false);
    }
  });
  test("counts characters as the contract and the column do: 64 ducks (128 UTF-16 units) are a name, 65 are not", () => {
    expect(v.parse(ItemName, "🦆".repeat(64))).toBe("🦆".repeat(64));
    const long = v.safeParse(ItemName, "🦆".repeat(65));
    expect(long.success).toBe(false);
    if (!long.success) expect(long.issues[0].message).toBe("must be at most 64 characters");
  });

  test('"." and ".." are no names (a URL path would never reach them); names with dots are', () => {
    for (const name of [".", "..", " .. "]) expect(v.safeParse(ItemName, name).success).toBe(false);
    for (const name of ["...", ".hidden", "a.b", "R2.D2"]) {
      expect(v.safeParse(ItemName, name).success).toBe(true);
    }
  });

  test("refuses format, bidi and invisible characters, naming the code point", () => {
    const cases: [string, string][] = [
      ["Tux\u200b", "U+200B"], // zero-width space
      ["\u202eTux", "U+202E"], // right-to-left override
      ["Tu\u2066x\u2069", "U+2066"], // left-to-right isolate
      ["Tux\u200d", "U+200D"], // zero-width joiner
      ["Tu\u00adx", "U+00AD"], // soft hyphen
      ["Tux\u2028Fox", "U+2028"], // line separator
      ["Tux\ud800", "U+D800"], // a lone surrogate: not text, and the database refuses it
    ];
    for (const [bad, named] of cases) {
      const r = v.safeParse(ItemName, bad);
      expect(r.success).toBe(false);
      if (!r.success) {
        expect(r.issues[0].message).toBe(`must not contain control, invisible or bidi characters (${named})`);
      }
    }
  });
  test("refuses a name of characters that are all ignored (its key would be empty)", () => {
    const r = v.safeParse(ItemName, "\u3164\u034f");
    expect(r.success).toBe(false);
    if (!r.success) expect(r.issues[0].message).toBe("must contain a visible character");
  });
  test("accepts names whose key is long or far from their text (İ × 40, U+FDFA × 64, straße, ΟΔΟΣ …)", () => {
    for (const ok of ["İ".repeat(40), "\ufdfa".repeat(64), "straße", "ΟΔΟΣ", "Tu\u0301x", "❤\ufe0f"]) {
      expect(v.safeParse(ItemName, ok).success).toBe(true);
    }
  });
});

describe("prices", () => {
  test("accept 0.01 to 100000.00 with at most two decimals", () => {
    for (const ok of [0.01, 15.99, 100000, 0.1, 19.9]) expect(v.safeParse(Price, ok).success).toBe(true);
  });
  test("refuse three decimals, zero, too much, strings and NaN", () => {
    for (const bad of [1.234, 0, 0.001, 100000.01, "1.00", Number.NaN, Infinity]) {
      expect(v.safeParse(Price, bad).success).toBe(false);
    }
  });
  test("refuse more than two decimals however close to a cent (they were stored rounded)", () => {
    for (const bad of [15.990000001, 99999.999999999, 0.010000001, 15.999, 1.005]) {
      const r = v.safeParse(Price, bad);
      expect(r.success).toBe(false);
      if (!r.success) expect(r.issues[0].message).toBe("must have at most two decimals");
    }
    expect(fieldsOf(AddItem, { name: "Robot", quantity: 1, price: 15.990000001 })).toEqual({
      price: "must have at most two decimals",
    });
    expect(fieldsOf(CorrectItem, { price: 99999.999999999 })).toEqual({
      price: "must have at most two decimals",
    });
  });
  test("accept every two-decimal price from 0.01 to 100000.00 (JSON's doubles of them)", () => {
    const refused: number[] = [];
    for (let cents = 1; cents <= 10_000_000; cents += 997) {
      const price = JSON.parse((cents / 100).toFixed(2)) as number;
      if (!v.safeParse(Price, price).success) refused.push(price);
    }
    expect(refused).toEqual([]);
    expect(v.safeParse(Price, 100000.0).success).toBe(true);
  });
});

describe("order requests", () => {
  test("need a name and a whole quantity from 1 to 1000", () => {
    expect(v.parse(OrderRequest, { name: "Tux", quantity: 1 })).toEqual({ name: "Tux", quantity: 1 });
    expect(fieldsOf(OrderRequest, { quantity: 1 })).toHaveProperty("name");
    for (const q of [0, 1001, 1.5, "2", -1, null]) {
      expect(fieldsOf(OrderRequest, { name: "Tux", quantity: q })).toHaveProperty("quantity");
    }
  });
  test("name every bad field in one message", () => {
    const r = v.safeParse(OrderRequest, { name: "", quantity: 0 });
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(describeIssues(r.issues).message).toBe("name: is required; quantity: must be at least 1");
    }
  });
});

describe("admin bodies", () => {
  test("adding needs a positive whole quantity; price optional (a restock)", () => {
    expect(v.parse(AddItem, { name: "Robot", quantity: 3 })).toEqual({ name: "Robot", quantity: 3 });
    expect(fieldsOf(AddItem, { name: "Robot", quantity: 0 })).toHaveProperty("quantity");
    expect(fieldsOf(AddItem, { name: "Robot", quantity: 1_000_001 })).toHaveProperty("quantity");
  });
  test("a correction sets quantity (0 allowed) and/or price, and needs one of them", () => {
    expect(v.parse(CorrectItem, { quantity: 0 })).toEqual({ quantity: 0 });
    expect(v.safeParse(CorrectItem, {}).success).toBe(false);
  });
  test("unknown keys such as __proto__ are dropped, never merged", () => {
    const body = JSON.parse('{"name":"Robot","quantity":1,"__proto__":{"admin":true}}');
    const out = v.parse(AddItem, body) as Record<string, unknown>;
    expect(out.admin).toBeUndefined();
    expect(Object.keys(out).sort()).toEqual(["name", "quantity"]);
  });
});

test("database rows are checked: a negative stock is refused", () => {
  expect(v.safeParse(Item, { name: "Tux", quantity: -1, price: 1 }).success).toBe(false);
});

test("order numbers are positive whole numbers within safe range", () => {
  expect(v.parse(OrderNumber, "42")).toBe(42);
  for (const bad of ["0", "-1", "1.5", "abc", "1e3", "99999999999999999"]) {
    expect(v.safeParse(OrderNumber, bad).success).toBe(false);
  }
});
