// The admin sessions and the sign-in limit, for both admin servers (admin/src/session.ts).
// The admin server checks the password itself (admin-api never sees it) and says
// whether it was right; this decides, under the limit, whether a session starts.
// Ids travel in bodies, never in paths: paths are logged.
import { Hono } from "hono";
import * as v from "valibot";
import { jsonBody } from "@bazaar/lib/http.ts";
import type { SignInLimiter } from "../logins.ts";
import type { SessionStore } from "../sessions.ts";

const Field = v.pipe(v.string(), v.minLength(1, "is required"), v.maxLength(512, "is too long"));

export const SignIn = v.object({
  user: v.pipe(v.string(), v.maxLength(1024, "is too long")),
  /** The client's address as the admin server saw it. */
  address: Field,
  /** The admin server found the user name and password right. */
  verified: v.boolean(),
  /** What the session is bound to: a keyed hash of the admin's credentials and secret. */
  fingerprint: Field,
});
export const SessionId = v.object({ id: Field });

export const sessions = ({ store, limiter }: { store: SessionStore; limiter: SignInLimiter }) =>
  new Hono()
    // 200 whatever the outcome: "allowed" with the session, "wrong", or "wait" so many seconds.
    .post("/", ...jsonBody(SignIn), async (c) => {
      const { user, address, verified, fingerprint } = c.req.valid("json");
      const decision = limiter.attempt({ address, account: user.toLowerCase(), verified });
      if (decision.outcome === "wait") {
        return c.json({ data: { outcome: "wait" as const, retry_after: decision.retryAfter } });
      }
      if (decision.outcome === "wrong") return c.json({ data: { outcome: "wrong" as const } });
      return c.json({
        data: { outcome: "allowed" as const, session: await store.create(user, fingerprint) },
      });
    })
    .post(
      "/check",
      ...jsonBody(SessionId),
      async (c) => c.json({ data: await store.check(c.req.valid("json").id) }),
    )
    .post(
      "/end",
      ...jsonBody(SessionId),
      async (c) => c.json({ data: { ended: await store.end(c.req.valid("json").id) } }),
    );
