// Who may use the admin site: the credentials check (constant time) and the session.
// A session lives in admin-api (admin-api/src/sessions.ts), shared by both admin
// servers, so signing out ends it everywhere; the browser holds only its id, in a
// signed, HttpOnly, SameSite=Strict cookie. Each session is bound to a fingerprint of
// the credentials and the secret it was made under (an HMAC keyed by SESSION_SECRET),
// so a new ADMIN_USER / ADMIN_PASSWORD or SESSION_SECRET ends every older session.
// The sign-in limit is admin-api's too (admin-api/src/logins.ts): this server checks
// the password and tells admin-api whether it was right, never the password itself.
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import * as v from "valibot";
import { constantTimeEqual } from "@bazaar/lib/auth.ts";
import type { Notice } from "@bazaar/lib/ui/layout.tsx";
import { call, forward } from "@bazaar/lib/ui/upstream.ts";
import type { AdminApiClient } from "./admin-api-client.ts";

export type Session = { id: string; user: string; expires: number; csrf: string };

export type SessionOptions = {
  secret: string;
  secure: boolean;
  backend: SessionBackend;
  /** sessionFingerprint() of this server's credentials and secret. */
  fingerprint: Promise<string>;
};

const SESSION_COOKIE = "bazaar_admin";
const FLASH_COOKIE = "bazaar_flash";
const PATH = "/admin";

const encoder = new TextEncoder();

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/**
 * Checks a user name and password against the configured ones without leaking, by
 * timing, how much of either matched: both sides are HMACed with a random key and
 * the digests compared in constant time.
 */
export function credentialsChecker(expected: { user: string; password: string }) {
  const key = crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]) as Promise<
    CryptoKey
  >;
  const mac = async (s: string) =>
    new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(s)));
  const wanted = Promise.all([mac(expected.user), mac(expected.password)]);
  return async (user: string, password: string) => {
    const [u, p] = await wanted;
    const [gotU, gotP] = await Promise.all([mac(user), mac(password)]);
    // Both compared, always: no early exit on a wrong user name.
    const userOk = constantTimeEqual(u, gotU);
    const passwordOk = constantTimeEqual(p, gotP);
    return userOk && passwordOk;
  };
}

/** The session's fingerprint: binds it to these credentials and this secret (HMAC-SHA256, keyed by the secret). */
export async function sessionFingerprint(secret: string, credentials: { user: string; password: string }) {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`bazaar-admin-session\0${credentials.user}\0${credentials.password}`),
  );
  return b64url(new Uint8Array(mac));
}

/** A session as admin-api keeps it. */
export type StoredSession = Session & { fingerprint: string };

export type SignInOutcome = { outcome: "allowed"; session: StoredSession } | { outcome: "wrong" } | {
  outcome: "wait";
  retry_after: number;
};

/** Where sessions and the sign-in limit are kept: admin-api (`adminApiSessions`). */
export type SessionBackend = {
  signIn(
    c: Context,
    attempt: { user: string; address: string; verified: boolean; fingerprint: string },
  ): Promise<SignInOutcome>;
  check(c: Context, id: string): Promise<StoredSession | null>;
  end(c: Context, id: string): Promise<void>;
};

const StoredSessionSchema = v.object({
  id: v.string(),
  user: v.string(),
  expires: v.number(),
  csrf: v.string(),
  fingerprint: v.string(),
});
const SignInReply = v.variant("outcome", [
  v.object({ outcome: v.literal("allowed"), session: StoredSessionSchema }),
  v.object({ outcome: v.literal("wrong") }),
  v.object({ outcome: v.literal("wait"), retry_after: v.number() }),
]);
const ADMIN_API = "the admin service";

export const adminApiSessions = (api: AdminApiClient): SessionBackend => ({
  signIn: (c, attempt) =>
    call(ADMIN_API, SignInReply, () => api.sessions.$post({ json: attempt }, forward(c))),
  check: (c, id) =>
    call(
      ADMIN_API,
      v.nullable(StoredSessionSchema),
      () => api.sessions.check.$post({ json: { id } }, forward(c)),
    ),
  end: async (c, id) =>
    void (await call(
      ADMIN_API,
      v.object({ ended: v.boolean() }),
      () => api.sessions.end.$post({ json: { id } }, forward(c)),
    )),
});

// The longest user name or address sent on to the limit (a form or header may carry far more).
const MAX_FIELD = 512;

export function sessions({ secret, secure, backend, fingerprint }: SessionOptions) {
  const cookie = (maxAge: number) => ({
    path: PATH,
    httpOnly: true,
    secure,
    sameSite: "Strict" as const,
    maxAge,
  });
  const mine = fingerprint.then((f) => encoder.encode(f));
  return {
    /**
     * One sign-in, its password already checked: admin-api applies the limit and, if
     * it allows a verified one, starts the session, whose id the cookie then carries.
     */
    async signIn(
      c: Context,
      attempt: { user: string; address: string; verified: boolean },
    ): Promise<SignInOutcome> {
      const outcome = await backend.signIn(c, {
        ...attempt,
        user: attempt.user.slice(0, MAX_FIELD),
        address: attempt.address.slice(0, MAX_FIELD),
        fingerprint: await fingerprint,
      });
      if (outcome.outcome !== "allowed") return outcome;
      if (!attempt.verified) return { outcome: "wrong" }; // never a session for a wrong password
      const { session } = outcome;
      const ttl = Math.max(1, Math.floor((session.expires - Date.now()) / 1000));
      await setSignedCookie(c, SESSION_COOKIE, session.id, secret, cookie(ttl));
      return outcome;
    },
    /** The session of this request: a cookie signed with this secret, known to admin-api, made under these credentials. */
    async read(c: Context): Promise<Session | null> {
      const id = await getSignedCookie(c, secret, SESSION_COOKIE);
      if (!id) return null;
      const s = await backend.check(c, id);
      if (!s || s.id !== id || s.expires <= Date.now()) return null;
      if (!constantTimeEqual(s.fingerprint, await mine)) return null;
      return { id: s.id, user: s.user, expires: s.expires, csrf: s.csrf };
    },
    /** Signs out: admin-api forgets the session (for both servers), then the cookie goes. */
    async end(c: Context, session: Session) {
      await backend.end(c, session.id);
      deleteCookie(c, SESSION_COOKIE, { path: PATH, httpOnly: true, secure, sameSite: "Strict" });
    },
    /** A message for the next page (post/redirect/get). */
    async flash(c: Context, notice: Notice) {
      await setSignedCookie(c, FLASH_COOKIE, JSON.stringify(notice), secret, cookie(60));
    },
    async takeFlash(c: Context): Promise<Notice | undefined> {
      const raw = await getSignedCookie(c, secret, FLASH_COOKIE);
      if (raw === undefined) return undefined;
      deleteCookie(c, FLASH_COOKIE, { path: PATH, httpOnly: true, secure, sameSite: "Strict" });
      if (!raw) return undefined;
      try {
        const n = JSON.parse(raw) as Notice;
        return typeof n.text === "string" && ["success", "error", "info"].includes(n.kind) ? n : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export type Sessions = ReturnType<typeof sessions>;

/** The form's token matches the session's (compared in constant time). */
export function tokenMatches(session: Session, sent: unknown) {
  if (typeof sent !== "string") return false;
  return constantTimeEqual(session.csrf, sent);
}
