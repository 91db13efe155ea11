// One request to the store, classified: an outcome the design allows (ok, not found,
// out of stock) or an unexpected error named by its kind. Every body is checked
// against the design's exact shapes ("Public HTTP surface") with valibot.
import * as v from "valibot";
import { ItemName, OrderQuantity, Price, Stock } from "@bazaar/lib/schemas.ts";
import type { KindStats, Outcome } from "./stats.ts";

// Orders are numbered from 0 (the lab's rule).
const OrderNumber = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

// Strict objects: an extra field is a change to the public contract, and the lab's
// clients must be able to rely on the shapes exactly.
export const ProductData = v.strictObject({ name: ItemName, price: Price, quantity: Stock });
export const PlacedData = v.strictObject({ order_number: OrderNumber });
export const OrderData = v.strictObject({ number: OrderNumber, name: ItemName, quantity: OrderQuantity });

const ErrorEnvelope = v.strictObject({
  error: v.strictObject({
    code: v.pipe(v.number(), v.integer()),
    message: v.pipe(v.string(), v.minLength(1)),
    // The internal contract adds field messages to 400s; allowed, never required.
    fields: v.optional(v.record(v.string(), v.string())),
  }),
});

/** An error answer the design allows for this request, and what it means. */
export type Expected = { status: number; message: string; outcome: Exclude<Outcome, "ok"> };

export type Result<T> = { kind: "ok"; data: T } | { kind: Exclude<Outcome, "ok"> } | {
  kind: "error";
  error: string;
};

export type RequestSpec<T> = {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  data: v.GenericSchema<unknown, T>;
  expected: Expected[];
  /** A check of the data against the request (e.g. the product asked for); a message on failure. */
  verify?: (data: T) => string | null;
};

export type HttpContext = { baseUrl: string; timeoutMs: number };

/** The start of a body on one line, for error messages. */
const snippet = (s: string) => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 120)}…` : line || "(empty)";
};

/** Network-level failures by the name people know them by (ECONNREFUSED, timeout, …). */
export function networkErrorKind(err: unknown): string {
  if (err instanceof Error || (typeof err === "object" && err !== null)) {
    const e = err as { name?: string; code?: unknown };
    if (e.name === "TimeoutError") return "timeout";
    if (e.name === "AbortError") return "aborted";
    if (typeof e.code === "string" && e.code) return e.code;
  }
  return "network error";
}

const issuesText = (issues: readonly v.BaseIssue<unknown>[]) =>
  issues
    .slice(0, 3)
    // valibot says "Expected never" for a key a strict object does not allow.
    .map((i) =>
      `${v.getDotPath(i) ?? "body"}: ${
        i.type === "strict_object" && i.expected === "never" ? "unexpected field" : i.message
      }`
    )
    .join("; ");

/** Sends one request, records it in `stats`, and says what came of it. */
export async function send<T>(ctx: HttpContext, stats: KindStats, spec: RequestSpec<T>): Promise<Result<T>> {
  const started = performance.now();
  const fail = (kind: string, detail: string): Result<T> => {
    stats.error(kind, `${spec.method} ${spec.path}: ${detail}`);
    return { kind: "error", error: kind };
  };
  let status: number;
  let text: string;
  try {
    // Bun's fetch keeps connections alive and pools them per origin, so a session
    // reuses its connection as a real client would.
    const res = await fetch(ctx.baseUrl + spec.path, {
      method: spec.method,
      headers: spec.body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    stats.span(started, performance.now());
    return fail(networkErrorKind(err), err instanceof Error ? err.message : String(err));
  }
  const ended = performance.now();
  // Latency only for answered requests: a timeout's "latency" is the timeout itself.
  stats.latency.record(ended - started);
  stats.span(started, ended);

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return status >= 200 && status < 300
      ? fail("bad shape", `status ${status}, body is not JSON: ${snippet(text)}`)
      : fail(`status ${status}`, `body is not JSON: ${snippet(text)}`);
  }

  if (status === 200) {
    const parsed = v.safeParse(v.strictObject({ data: spec.data }), body);
    if (!parsed.success) return fail("bad shape", `${issuesText(parsed.issues)}; body ${snippet(text)}`);
    const problem = spec.verify?.(parsed.output.data);
    if (problem) return fail("wrong data", problem);
    stats.outcome("ok");
    return { kind: "ok", data: parsed.output.data };
  }

  const envelope = v.safeParse(ErrorEnvelope, body);
  const candidates = spec.expected.filter((e) => e.status === status);
  // An unexpected status is the headline even if its body is also malformed.
  if (candidates.length === 0) {
    return fail(
      `status ${status}`,
      envelope.success ? envelope.output.error.message : `body ${snippet(text)}`,
    );
  }
  if (!envelope.success) {
    return fail("bad shape", `status ${status}: ${issuesText(envelope.issues)}; body ${snippet(text)}`);
  }
  const { code, message } = envelope.output.error;
  if (code !== status) return fail("bad shape", `status ${status} but error code ${code}`);
  const match = candidates.find((e) => e.message === message);
  if (!match) return fail(`status ${status}`, `unexpected message ${JSON.stringify(message)}`);
  stats.outcome(match.outcome);
  return { kind: match.outcome };
}
