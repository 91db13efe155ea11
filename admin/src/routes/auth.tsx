/** @jsxImportSource hono/jsx */
// Sign in (credentials compared in constant time here, the limit kept by admin-api for
// both admin servers) and sign out (the session ended in admin-api, not just the cookie).
import { Hono } from "hono";
import { limitBody } from "@bazaar/lib/http.ts";
import { renderPage } from "@bazaar/lib/ui/layout.tsx";
import { clientIp, sameOriginForms } from "@bazaar/lib/ui/http.ts";
import type { AdminDeps, AdminHonoEnv } from "../env.ts";
import { text } from "@bazaar/lib/ui/forms.ts";
import { requireSession } from "../guard.ts";
import { LoginPage } from "../pages/login.tsx";
import type { credentialsChecker } from "../session.ts";

export type AuthDeps = AdminDeps & { checkCredentials: ReturnType<typeof credentialsChecker> };

export const auth = ({ identity, site, sessions, checkCredentials, proxyKey }: AuthDeps) =>
  new Hono<AdminHonoEnv>()
    .get("/login", async (c) => {
      // Admin-api unreachable: show the form anyway (signing in will say what is wrong).
      if (await sessions.read(c).catch(() => null)) return c.redirect("/admin", 303);
      return renderPage(c, 200, <LoginPage identity={identity} site={site} />);
    })
    .post("/login", sameOriginForms(proxyKey), limitBody(), async (c) => {
      const form = await c.req.parseBody();
      const user = text(form.user);
      const verified = await checkCredentials(user, text(form.password));
      const result = await sessions.signIn(c, { user, address: clientIp(c, proxyKey), verified });
      if (result.outcome === "wait") {
        const wait = result.retry_after;
        c.header("Retry-After", String(wait));
        return renderPage(
          c,
          429,
          <LoginPage
            identity={identity}
            site={site}
            error={`Too many failed sign-ins. Please wait ${wait} ${
              wait === 1 ? "second" : "seconds"
            } and try again.`}
          />,
        );
      }
      if (result.outcome === "wrong") {
        return renderPage(
          c,
          401,
          <LoginPage identity={identity} site={site} user={user} error="Wrong user name or password." />,
        );
      }
      return c.redirect("/admin", 303);
    })
    .post("/logout", requireSession(sessions, proxyKey), async (c) => {
      await sessions.end(c, c.get("session"));
      return c.redirect("/admin/login", 303);
    });
