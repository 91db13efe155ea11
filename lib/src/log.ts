// One structured JSON line per request, carrying the request id HAProxy assigns
// (X-Request-Id; hono/request-id reuses it, or makes one when called directly).
import type { MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";

export const REQUEST_ID_HEADER = "X-Request-Id";

export const withRequestId = () =>
  requestId({ headerName: REQUEST_ID_HEADER, limitLength: 128 });

export const logRequests = (service: string): MiddlewareHandler => async (c, next) => {
  const start = performance.now();
  await next();
  if (c.req.path === "/healthz" || c.req.path === "/readyz") return;
  console.log(JSON.stringify({
    time: new Date().toISOString(),
    service,
    request_id: c.get("requestId" as never),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    ms: Math.round((performance.now() - start) * 10) / 10,
  }));
};
