// How the page tiers call their internal API through a Hono typed client: every call
// has a deadline and carries the request id; a failure of the API (down, slow, 5xx,
// a reply that doesn't parse) is a 503 "… temporarily unavailable", while the API's
// own answers (404, 409, 400 …) pass through in the one error shape.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { checkedText } from "../checked-text.ts";
import { fail, Unavailable } from "../http.ts";
import { type HonoEnv, REQUEST_ID_HEADER } from "../log.ts";

export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The API was never reached (its connection was refused): nothing was sent, so no write was made. */
export class NotSent extends Error {
  override name = "NotSent";
  constructor(cause: unknown) {
    super("the API was never reached: the connection was refused", { cause });
  }
}

// Bun puts ECONNREFUSED in the error's code, Node (undici) in its cause's. Deno 2 gives
// neither a code nor a class, only a message ("… Connection refused (os error 111)" in
// its cause), as does the in-memory stand-in's fetch: for those alone, the message.
const refused = (err: unknown) => {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (e?.code === "ECONNREFUSED" || e?.code === "ConnectionRefused" || e?.cause?.code === "ECONNREFUSED") {
    return true;
  }
  return /connection refused|ECONNREFUSED/i.test(`${String(err)} ${String(e?.cause ?? "")}`);
};

/**
 * A fetch whose every call is aborted after `ms` (the whole exchange, body included),
 * and whose refused connection is a NotSent: what was never sent is known by its class.
 * @example
 * const fetch = timedFetch(3000);
 */
export function timedFetch(ms: number, base: Fetch = fetch): Fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      return await base(input, { ...init, signal });
    } catch (err) {
      throw refused(err) ? new NotSent(err) : err;
    }
  };
}

/** Where an internal API is and how to reach it: its URL, service token and deadline. */
export type ServiceTarget = { url: string; token: string; timeoutMs: number; fetch?: Fetch };

/** What every call to an internal API carries: its Bearer token. */
export const serviceHeaders = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The typed client's options for an internal API: its Bearer token, a deadline on every call. */
export const serviceClientOptions = ({ token, timeoutMs, fetch }: ServiceTarget) => ({
  headers: serviceHeaders(token),
  fetch: timedFetch(timeoutMs, fetch),
});

/** Per-call options for the typed client: the request id of the incoming request. */
export const forward = (c: Context<HonoEnv>) => {
  const id = c.get("requestId");
  return { headers: id ? { [REQUEST_ID_HEADER]: id } : ({} as Record<string, string>) };
};

/** An API's own answer that call() turned into a 503: its status (the cause of that Unavailable). */
export class UpstreamStatus extends Error {
  override name = "UpstreamStatus";
  constructor(readonly status: number, body: unknown) {
    // The status and the API's own message (the one error shape), not its body.
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    super(`HTTP ${status}${typeof message === "string" ? `: ${message.slice(0, 200)}` : ""}`);
  }
}

const ErrorReply = v.object({
  error: v.object({
    code: v.number(),
    message: v.string(),
    fields: v.optional(v.record(v.string(), v.string())),
  }),
});

/** What call() needs of a reply (a Response or the typed client's ClientResponse). */
type Reply = { ok: boolean; status: number; text(): Promise<string> };

const PASSED_ON = new Set([400, 404, 409, 413, 415, 422]);

// `{"data": schema}` per schema, made once so that checkedText can remember by it.
const replies = new WeakMap<v.GenericSchema, v.GenericSchema>();
const replyOf = (schema: v.GenericSchema) => {
  let reply = replies.get(schema);
  if (!reply) replies.set(schema, reply = v.object({ data: schema }));
  return reply;
};

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
      const reply = checkedText(replyOf(schema), text) as { data: v.InferOutput<S> } | undefined;
      if (reply !== undefined) return reply.data;
    }
    body = JSON.parse(text);
  } catch (err) {
    throw new Unavailable(what, err);
  }
  // Not the reply itself: it may be a session, with its CSRF token (admin-api's /sessions).
  if (res.ok) throw new Unavailable(what, new Error(`unexpected reply of ${text.length} characters`));
  const reply = v.safeParse(ErrorReply, body);
  if (PASSED_ON.has(res.status) && reply.success) {
    fail(res.status as ContentfulStatusCode, reply.output.error.message, reply.output.error.fields);
  }
  throw new Unavailable(what, new UpstreamStatus(res.status, body));
}
