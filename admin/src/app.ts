// The admin site under /admin: sign in, then the inventory and the orders. Every
// page needs the session; every form is checked for origin and the session's token.
import { Hono } from "hono";
import { alive } from "@bazaar/lib/health.ts";
import { type ErrorResponder, handleErrors } from "@bazaar/lib/http.ts";
import { type Log, logRequests, withRequestId } from "@bazaar/lib/log.ts";
import { renderErrorPage, type Site } from "@bazaar/lib/ui/layout.tsx";
import { pageHeaders } from "@bazaar/lib/ui/http.ts";
import { serveStyles } from "@bazaar/lib/ui/styles.ts";
import type { AdminApiClient } from "./admin-api-client.ts";
import type { AdminHonoEnv } from "./env.ts";
import { requireSession } from "./guard.ts";
import { auth } from "./routes/auth.tsx";
import { items } from "./routes/items.tsx";
import { orders } from "./routes/orders.tsx";
import {
  adminApiSessions,
  credentialsChecker,
  type SessionBackend,
  sessionFingerprint,
  sessions as makeSessions,
} from "./session.ts";

export type AdminAppDeps = {
  adminApi: AdminApiClient;
  /**
   * admin-api for the catalogue's writes, whose deadline (API_WRITE_TIMEOUT_MS) is past
   * admin-api's own write budget, which covers a database failover (default: `adminApi`).
   */
  adminWrites?: AdminApiClient;
  identity: string;
  credentials: { user: string; password: string };
  sessionSecret: string;
  cookieSecure: boolean;
  /**
   * The key the proxy signs the client's address and host with (REQUEST_ID_KEY); without
   * it no forwarded address or host is trusted (lib/src/forwarded.ts).
   */
  proxyKey?: string;
  /** Where sessions and the sign-in limit live (default: admin-api, through `adminApi`). */
  sessionBackend?: SessionBackend;
  /** Where log entries go (default: JSON lines on stdout/stderr). */
  log?: Log;
};

export function createApp(
  {
    adminApi,
    adminWrites = adminApi,
    identity,
    credentials,
    sessionSecret,
    cookieSecure,
    proxyKey,
    sessionBackend = adminApiSessions(adminApi),
    log,
  }: AdminAppDeps,
) {
  const app = new Hono<AdminHonoEnv>();
  app.use(withRequestId(), logRequests("admin", log), pageHeaders(identity));
  app.get("/healthz", alive);
  app.get("/admin/healthz", alive);
  const site: Site = { home: "/admin", section: "Admin", css: serveStyles(app, "/admin") };

  const fingerprint = sessionFingerprint(sessionSecret, credentials);
  const sessions = makeSessions({
    secret: sessionSecret,
    secure: cookieSecure,
    backend: sessionBackend,
    fingerprint,
  });
  const deps = { adminApi, adminWrites, identity, site, sessions, proxyKey };
  const guard = requireSession(sessions, proxyKey);
  const open = new Set(["/admin/login", "/admin/logout", "/admin/healthz", site.css]);
  app.use("/admin/*", (c, next) => (open.has(c.req.path) ? next() : guard(c, next)));

  app.route("/admin", auth({ ...deps, checkCredentials: credentialsChecker(credentials) }));
  app.route("/admin", items(deps));
  app.route("/admin/orders", orders(deps));
  app.get("/admin/", (c) => c.redirect("/admin", 301));

  const respond: ErrorResponder<AdminHonoEnv> = (c, status, message) =>
    renderErrorPage(c, status, {
      identity,
      site,
      message: status === 404 && message === "not found" ? "we couldn't find that page" : message,
      back: status === 401 ? { href: "/admin/login", label: "Sign in" } : undefined,
    });
  return handleErrors(app, { respond, log });
}
