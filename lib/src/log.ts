// One structured JSON line per request, carrying the request id HAProxy assigns
// (X-Request-Id; hono/request-id reuses it, or makes one when called directly).
import type { MiddlewareHandler } from "hono";
import { requestId, type RequestIdVariables } from "hono/request-id";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** What every app keeps per request: the request id (set by withRequestId). */
export type AppEnv = { Variables: RequestIdVariables };

/** Where an app's log entries go: one JSON line each. Tests pass a quiet one. */
export type Log = (entry: Record<string, unknown>) => void;

/** Errors to stderr, everything else to stdout. */
export const jsonLines: Log = (entry) =>
  (entry.level === "error" ? console.error : console.log)(JSON.stringify(entry));

// hono/request-id keeps an incoming id only if it is [\w\-=]; HAProxy's ids
// (proxy/haproxy.cfg unique-id-format) also contain ':', '.' and '_'. Such an id is
// kept too (still nothing that could break a log line); anything else gets a new one.
const FORWARDED_ID = /^[\w\-=:.]{1,128}$/;

export const withRequestId = (): MiddlewareHandler<AppEnv> =>
  requestId({
    headerName: REQUEST_ID_HEADER,
    limitLength: 128,
    generator: (c) => {
      const given = c.req.header(REQUEST_ID_HEADER);
      return given && FORWARDED_ID.test(given) ? given : crypto.randomUUID();
    },
  });

export function logRequests(service: string, log: Log = jsonLines): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    if (c.req.path === "/healthz" || c.req.path === "/readyz") return;
    log({
      time: new Date().toISOString(),
      service,
      request_id: c.get("requestId"),
      // The client's address chain as HAProxy passed it on (absent on direct calls).
      forwarded_for: c.req.header("x-forwarded-for"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
    });
  };
}
