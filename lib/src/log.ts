// One structured JSON line per request, carrying the request id HAProxy assigns
// (X-Request-Id; kept when the app trusts it, else the app makes one).
import type { Context, MiddlewareHandler } from "hono";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** Where an app's log entries go: one JSON line each. Tests pass a quiet one. */
export type Log = (entry: Record<string, unknown>) => void;

/** Errors to stderr, everything else to stdout. */
export const jsonLines: Log = (entry) =>
  (entry.level === "error" ? console.error : console.log)(JSON.stringify(entry));

// What hono/request-id keeps ([\w\-=]), plus ':' and '.': nothing that could break a
// log line. Anything else, or anything longer, is replaced and not logged.
const FORWARDED_ID = /^[\w\-=:.]{1,128}$/;

/** Whether an incoming id is this request's: the APIs trust their callers', web only the proxy's. */
export type TrustRequestId = (id: string, c: Context) => boolean;

/**
 * Sets c.get("requestId") and the X-Request-Id response header: the incoming id when
 * it is well-formed and `trust` accepts it, else a new UUID. An id not trusted is
 * kept as "clientRequestId", only for the log line. (hono/request-id keeps every
 * well-formed id, and web must be able to refuse one: lib/src/request-id.ts.)
 */
export const withRequestId = (trust: TrustRequestId = () => true): MiddlewareHandler => async (c, next) => {
  const given = c.req.header(REQUEST_ID_HEADER);
  const wellFormed = given !== undefined && FORWARDED_ID.test(given);
  let id = given;
  if (!wellFormed || !trust(given, c)) {
    id = crypto.randomUUID();
    if (wellFormed) c.set("clientRequestId" as never, given as never);
  }
  c.set("requestId" as never, id as never);
  c.header(REQUEST_ID_HEADER, id);
  await next();
};

export const logRequests = (service: string, log: Log = jsonLines): MiddlewareHandler => async (c, next) => {
  const start = performance.now();
  await next();
  if (c.req.path === "/healthz" || c.req.path === "/readyz") return;
  log({
    time: new Date().toISOString(),
    service,
    request_id: c.get("requestId" as never),
    // An id the client sent that was not taken as the request's (web: not the proxy's).
    client_request_id: c.get("clientRequestId" as never),
    // The client's address chain as HAProxy passed it on (absent on direct calls).
    forwarded_for: c.req.header("x-forwarded-for"),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    ms: Math.round((performance.now() - start) * 10) / 10,
  });
};
