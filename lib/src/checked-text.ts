// JSON text checked against a valibot schema, remembered: the tiers pass the same
// few documents around again and again (a cached item, the catalogue), and
// parsing and checking each copy was a good part of their CPU. The same text
// against the same schema gives the same frozen output; nothing is skipped for a
// text not seen before, so what is served is still always checked.
import * as v from "valibot";

// Per schema, then the memo starts over: a count and a size (in UTF-16 units), so a
// few large texts (a batch reply, a page) cannot hold much memory either.
const MAX_TEXTS = 10_000;
const MAX_CHARS = 1_000_000;
type Memo = { texts: Map<string, unknown>; chars: number };
const memos = new WeakMap<v.GenericSchema, Memo>();
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
  if (!memo) memos.set(schema, memo = { texts: new Map(), chars: 0 });
  const known = memo.texts.get(text);
  if (known !== undefined) return known === INVALID ? undefined : (known as v.InferOutput<S>);
  let output: unknown = INVALID;
  try {
    const parsed = v.safeParse(schema, JSON.parse(text));
    if (parsed.success) output = deepFreeze(parsed.output);
  } catch {
    // Not JSON: invalid.
  }
  if (memo.texts.size >= MAX_TEXTS || memo.chars + text.length > MAX_CHARS) {
    memo.texts.clear();
    memo.chars = 0;
  }
  // undefined is a valid output of some schemas but never of JSON text; store it as is.
  if (text.length <= MAX_CHARS) {
    memo.texts.set(text, output);
    memo.chars += text.length;
  }
  return output === INVALID ? undefined : (output as v.InferOutput<S>);
}
