// JSON text checked against a valibot schema, remembered: the tiers pass the same
// few documents around again and again (a cached item, the catalogue), and
// parsing and checking each copy was a good part of their CPU. The same text
// against the same schema gives the same frozen output; nothing is skipped for a
// text not seen before, so what is served is still always checked.
import * as v from "valibot";

const MAX_TEXTS = 256; // per schema; then the memo starts over
const memos = new WeakMap<v.GenericSchema, Map<string, unknown>>();
const INVALID = Symbol("invalid");

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
};

/** The checked output of `text` (JSON), or undefined when it is not valid JSON of this schema. */
export function checkedText<S extends v.GenericSchema>(
  schema: S,
  text: string,
): v.InferOutput<S> | undefined {
  let memo = memos.get(schema);
  if (!memo) memos.set(schema, memo = new Map());
  const known = memo.get(text);
  if (known !== undefined) return known === INVALID ? undefined : (known as v.InferOutput<S>);
  let output: unknown = INVALID;
  try {
    const parsed = v.safeParse(schema, JSON.parse(text));
    if (parsed.success) output = deepFreeze(parsed.output);
  } catch {
    // Not JSON: invalid.
  }
  if (memo.size >= MAX_TEXTS) memo.clear();
  // undefined is a valid output of some schemas but never of JSON text; store it as is.
  memo.set(text, output);
  return output === INVALID ? undefined : (output as v.InferOutput<S>);
}
