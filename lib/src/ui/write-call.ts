// A write through an internal API, answered with what is known: the API's own 503
// (it gave up before anything changed) and an API never reached stay 503 "not made";
// anything else that leaves no answer — a deadline passed, a broken reply, the API's
// own 504 — means the write may or may not have happened, and the caller says so.
import type * as v from "valibot";
import { Unavailable } from "../http.ts";
import { call, NotSent, UpstreamStatus } from "./upstream.ts";

/**
 * call(), with `unknown(cause)` thrown where the outcome is not known.
 * @example
 * await writeCall(STORE, Placed, () => api.orders.$post({ json }), (cause) => new OutcomeUnknown(id, cause));
 */
export async function writeCall<S extends v.GenericSchema>(
  what: string,
  schema: S,
  run: Parameters<typeof call>[2],
  unknown: (cause: unknown) => Error,
): Promise<v.InferOutput<S>> {
  try {
    return await call(what, schema, run);
  } catch (err) {
    if (!(err instanceof Unavailable)) throw err;
    const cause = err.cause;
    if (cause instanceof UpstreamStatus ? cause.status === 503 : cause instanceof NotSent) throw err;
    throw unknown(cause);
  }
}
