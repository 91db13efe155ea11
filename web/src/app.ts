// The storefront: pages for people, the public JSON API for programs, both in front
// of the read API. Errors are pages or the JSON shape, as the request wants.
import { type Context, Hono } from "hono";
import { healthz } from "@bazaar/lib/health.ts";
import { type ErrorResponder, handleErrors, jsonError } from "@bazaar/lib/http.ts";
import { type Log, logRequests, withRequestId } from "@bazaar/lib/log.ts";
import { isSignedRequestId, REQUEST_ID_SIG_HEADER } from "@bazaar/lib/request-id.ts";
import { renderErrorPage, type Site } from "@bazaar/lib/ui/layout.tsx";
import { pageHeaders, prefersHtml } from "@bazaar/lib/ui/http.ts";
import { serveStyles } from "@bazaar/lib/ui/styles.ts";
import type { ApiClient } from "./api-client.ts";
import type { CatalogLease } from "./catalog-lease.ts";
import { catalogReader } from "./catalog-reader.ts";
import type { WebHonoEnv } from "./env.ts";
import { Nav } from "./pages.tsx";
import { orders } from "./routes/orders.tsx";
import { products } from "./routes/products.ts";
import { storefront } from "./routes/storefront.tsx";

export type WebAppDeps = {
  api: ApiClient;
  /**
   * The api for purchases, whose deadline (API_WRITE_TIMEOUT_MS) is past the api's own
   * purchase budget, which covers a database failover (default: `api`).
   */
  purchases?: ApiClient;
  identity: string;
  log?: Log;
  /** The proxy's request-id key (REQUEST_ID_KEY); without it no incoming id is kept. */
  requestIdKey?: string;
  /** How long a read may wait for the api (API_TIMEOUT_MS), counted from its arrival. */
  apiTimeoutMs?: number;
  /** How many bytes of the catalogue it keeps (CATALOG_MEMORY_MB). */
  catalogBytes?: number;
  /** The grant under which the catalogue is served from memory (without it, every read asks the api). */
  lease?: CatalogLease;
};

export function createApp(
  { api, purchases = api, identity, log, requestIdKey, apiTimeoutMs = 3000, catalogBytes, lease }: WebAppDeps,
) {
  // strict: false — a path with one trailing slash is the same route (/orders/,
  // /products/Tux/, /orders/0/): the lab's published tests call them so, and a
  // program that POSTs to /orders/ would not follow a redirect. Pages are served
  // the same way rather than redirected: their links are all absolute, so a page at
  // /orders/0/ renders exactly as at /orders/0, without a second round trip.
  const app = new Hono<WebHonoEnv>({ strict: false });
  // The request id is a purchase's idempotency key (api/src/purchase.ts): a POST's
  // (only POSTs can buy, and only theirs does the proxy sign) is kept only when the
  // proxy signed it, else anyone reaching this server could replay one. Any other
  // request's id only names it in the logs: kept without the HMAC (which cost every
  // page ~5 µs of web's CPU for nothing).
  const fromProxy = (id: string, c: Context) =>
    c.req.method !== "POST" || isSignedRequestId(requestIdKey, id, c.req.header(REQUEST_ID_SIG_HEADER));
  app.use(withRequestId(fromProxy), logRequests("web", log), pageHeaders(identity));
  const catalog = catalogReader(api, apiTimeoutMs, catalogBytes, lease);
  // The coalesced checks' counts ride on /healthz: the bench's batching factor.
  app.get("/healthz", healthz(catalog.stats));
  const site: Site = { home: "/", css: serveStyles(app), nav: Nav() };

  const respond: ErrorResponder<WebHonoEnv> = (c, status, message, fields) => {
    const format = c.get("errorFormat") ?? (prefersHtml(c.req.header("accept")) ? "html" : "json");
    if (format === "json") return jsonError(c, status, message, fields);
    const text = status === 404 && message === "not found"
      ? "we couldn't find the page you were looking for"
      : message;
    return renderErrorPage(c, status, { identity, site, message: text });
  };

  const deps = { api, purchases, catalog, identity, site };
  app.route("/", storefront(deps));
  app.route("/products", products(deps));
  app.route("/orders", orders(deps));
  return handleErrors(app, { respond, log });
}
