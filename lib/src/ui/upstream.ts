// How the page tiers call their internal API through a Hono typed client: every call
// has a deadline and carries the request id; a failure of the API (down, slow, 5xx,
// a reply that doesn't parse) is a 503 "… temporarily unavailable", while the API's
// own answers (404, 409, 400 …) pass through in the one error shape.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { fail, Unavailable } from "../http.ts";
import { REQUEST_ID_HEADER } from "../log.ts";

export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** A fetch whose every call is aborted after `ms` (the whole exchange, body included). */
export function timedFetch(ms: number, base: Fetch = fetch): Fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return base(input, { ...init, signal });
  };
}

/** Per-call options for the typed client: the request id of the incoming request. */
export const forward = (c: Context) => {
  const id = c.get("requestId" as never) as string | undefined;
  return { headers: id ? { [REQUEST_ID_HEADER]: id } : ({} as Record<string, string>) };
};

const ErrorReply = v.object({
  error: v.object({ code: v.number(), message: v.string(), fields: v.optional(v.record(v.string(), v.string())) }),
});

/** What call() needs of a reply (a Response or the typed client's ClientResponse). */
type Reply = { ok: boolean; status: number; text(): Promise<string> };

const PASSED_ON = new Set([400, 404, 409, 413, 415, 422]);

// The API answers the same few documents over and over (the catalogue, an item):
// a reply whose text was already checked against this schema is not parsed and
// checked again. The outputs are shared between requests, so they are frozen.
const MEMO_ENTRIES = 256;
const checkedTexts = new WeakMap<v.GenericSchema, Map<string, unknown>>();

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
};

/** `data` of an ok reply, checked with `schema`, or undefined when it does not fit. */
function checkedData<S extends v.GenericSchema>(schema: S, text: string): v.InferOutput<S> | undefined {
  let memo = checkedTexts.get(schema);
  if (!memo) checkedTexts.set(schema, (memo = new Map()));
  if (memo.has(text)) return memo.get(text) as v.InferOutput<S>;
  const parsed = v.safeParse(v.object({ data: schema }), JSON.parse(text));
  if (!parsed.success) return undefined;
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(text, deepFreeze(parsed.output.data));
  return parsed.output.data;
}

/**
 * Make one call and return its `data`, checked with `schema`. `what` names the
 * service in the 503 message ("the store").
 */
export async function call<S extends v.GenericSchema>(
  what: string,
  schema: S,
  run: () => Promise<Reply>,
): Promise<v.InferOutput<S>> {
  let res: Reply;
  let text: string;
  let body: unknown;
  try {
    res = await run();
    text = await res.text();
    if (res.ok) {
      const data = checkedData(schema, text);
      if (data !== undefined) return data;
    }
    body = JSON.parse(text);
  } catch (err) {
    throw new Unavailable(what, err);
  }
  if (res.ok) throw new Unavailable(what, new Error(`unexpected reply: ${text.slice(0, 200)}`));
  const reply = v.safeParse(ErrorReply, body);
  if (PASSED_ON.has(res.status) && reply.success) {
    fail(res.status as ContentfulStatusCode, reply.output.error.message, reply.output.error.fields);
  }
  throw new Unavailable(what, new Error(`HTTP ${res.status}: ${JSON.stringify(body).slice(0, 200)}`));
}
