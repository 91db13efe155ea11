// Every admin page and action needs a session: a page without one redirects to the
// login; a form post without one is 401, and one whose token is not the session's
// is 403 (with hono/csrf's origin check in front of it).
import type { MiddlewareHandler } from "hono";
import { fail, limitBody } from "@bazaar/lib/http.ts";
import { sameOriginForms } from "@bazaar/lib/ui/http.ts";
import type { AdminHonoEnv } from "./env.ts";
import { type Sessions, tokenMatches } from "./session.ts";

export function requireSession(sessions: Sessions, proxyKey?: string): MiddlewareHandler<AdminHonoEnv> {
  const origin = sameOriginForms(proxyKey);
  const limit = limitBody();
  return async (c, next) => {
    const session = await sessions.read(c);
    const safe = c.req.method === "GET" || c.req.method === "HEAD";
    if (!session) {
      if (safe) return c.redirect("/admin/login", 303);
      fail(401, "please sign in first");
    }
    c.set("session", session);
    if (safe) return next();
    await origin(c, async () => {
      await limit(c, async () => {
        const form = await c.req.parseBody();
        if (!tokenMatches(session, form._csrf)) {
          fail(
            403,
            "this form has expired or did not come from this site; please reload the page and try again",
          );
        }
        await next();
      });
    });
  };
}
