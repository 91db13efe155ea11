import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { fieldErrors, formNumber, text } from "./forms.ts";
import { OrderRequest } from "../schemas.ts";

describe("formNumber", () => {
  test("reads a number as a person types it", () => {
    expect(formNumber("3")).toBe(3);
    expect(formNumber(" 15.99 ")).toBe(15.99);
    expect(formNumber("$15.99")).toBe(15.99);
    expect(formNumber("1,000")).toBe(1000);
    expect(formNumber("-2")).toBe(-2);
  });
  test("an empty or missing field is no value", () => {
    expect(formNumber("")).toBeUndefined();
    expect(formNumber("   ")).toBeUndefined();
    expect(formNumber(undefined)).toBeUndefined();
    expect(formNumber(new File(["1"], "x.txt"))).toBeUndefined();
  });
  test("anything else is left for the schema to refuse as not a number", () => {
    expect(formNumber("two")).toBe("two");
    expect(formNumber("1e3")).toBe("1e3");
    // Commas only where a person puts them: between groups of three digits.
    expect(formNumber("12,345.50")).toBe(12345.5);
    for (const odd of ["1,0,0", "10,00", ",100", "100,", "1,,000"]) expect(formNumber(odd)).toBe(odd);
    const parsed = v.safeParse(OrderRequest, { name: "Tux", quantity: formNumber("two") });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(fieldErrors(parsed.issues)).toEqual({ quantity: "must be a number" });
  });
});

test("text: a missing field or a file is empty text", () => {
  expect(text("Tux")).toBe("Tux");
  expect(text(undefined)).toBe("");
  expect(text(new File(["x"], "x.txt"))).toBe("");
});
