// Form fields arrive as strings; the shared schemas (../schemas.ts) want numbers. These
// convert what a person would type ("1,000", "$15.99") and leave anything else for
// the schema to refuse with its message. Both page tiers read their forms with them.
import type * as v from "valibot";
import { describeIssues } from "../schemas.ts";

/** A form field as text: "" when it is missing or a file. */
export const text = (raw: unknown) => (typeof raw === "string" ? raw : "");

/**
 * "" → undefined; a plain number → that number, commas allowed only between groups of
 * three digits ("1,000", not "1,0,0"); anything else → the string (the schema says
 * "must be a number").
 */
export function formNumber(raw: unknown): number | string | undefined {
  const s = text(raw).trim().replace(/^\$/, "");
  if (s === "") return undefined;
  const plain = /^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replaceAll(",", "") : s;
  return /^-?\d+(\.\d+)?$/.test(plain) ? Number(plain) : plain;
}

/** Field → message, from a failed parse. */
export const fieldErrors = (issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]) =>
  describeIssues(issues).fields;
