/** @jsxImportSource hono/jsx */
// Sign in (rate-limited per client, credentials compared in constant time) and sign out.
import { Hono } from "hono";
import { limitBody } from "@bazaar/lib/http.ts";
import { renderPage } from "@bazaar/lib/ui/layout.tsx";
import { clientIp, sameOriginForms } from "@bazaar/lib/ui/http.ts";
import type { AdminDeps, AdminEnv } from "../env.ts";
import { text } from "../forms.ts";
import { requireSession } from "../guard.ts";
import { LoginPage } from "../pages.tsx";
import type { credentialsChecker, loginLimiter } from "../session.ts";

export type AuthDeps = AdminDeps & {
  checkCredentials: ReturnType<typeof credentialsChecker>;
  limiter: ReturnType<typeof loginLimiter>;
  /** The same, per user name across all clients. */
  accountLimiter: ReturnType<typeof loginLimiter>;
};

export const auth = ({ identity, site, sessions, checkCredentials, limiter, accountLimiter }: AuthDeps) =>
  new Hono<AdminEnv>()
    .get("/login", async (c) => {
      if (await sessions.read(c)) return c.redirect("/admin", 303);
      return renderPage(c, 200, <LoginPage identity={identity} site={site} />);
    })
    .post("/login", sameOriginForms(), limitBody(), async (c) => {
      const ip = clientIp(c);
      const form = await c.req.parseBody();
      const user = text(form.user);
      const account = user.toLowerCase();
      const wait = Math.max(limiter.retryAfter(ip), accountLimiter.retryAfter(account));
      if (wait > 0) {
        c.header("Retry-After", String(wait));
        return renderPage(c, 429, <LoginPage identity={identity} site={site}
          error={`Too many failed sign-ins. Please wait ${wait} ${wait === 1 ? "second" : "seconds"} and try again.`} />);
      }
      if (!(await checkCredentials(user, text(form.password)))) {
        limiter.fail(ip);
        accountLimiter.fail(account);
        return renderPage(c, 401, <LoginPage identity={identity} site={site} user={user} error="Wrong user name or password." />);
      }
      limiter.succeed(ip);
      accountLimiter.succeed(account);
      await sessions.start(c, user);
      return c.redirect("/admin", 303);
    })
    .post("/logout", requireSession(sessions), (c) => {
      sessions.end(c);
      return c.redirect("/admin/login", 303);
    });
