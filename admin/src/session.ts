// Who may use the admin site: the credentials check (constant time), the login rate
// limit, and the session — a signed, HttpOnly, SameSite=Strict cookie that carries
// the user, its expiry and the per-session CSRF token for the forms. Stateless, so
// any admin instance with the same SESSION_SECRET accepts it.
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

export type Session = { user: string; expires: number; csrf: string };
export type Notice = { kind: "success" | "error" | "info"; text: string };

export type SessionOptions = { secret: string; secure: boolean; ttlSeconds?: number };

const SESSION_COOKIE = "bazaar_admin";
const FLASH_COOKIE = "bazaar_flash";
const PATH = "/admin";
const DEFAULT_TTL = 8 * 60 * 60;

const encoder = new TextEncoder();

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

export const randomToken = () => b64url(crypto.getRandomValues(new Uint8Array(24)));

/** Equal strings in time that depends only on their length (use on same-length digests). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Checks a user name and password against the configured ones without leaking, by
 * timing, how much of either matched: both sides are HMACed with a random key and
 * the digests compared in constant time.
 */
export function credentialsChecker(expected: { user: string; password: string }) {
  const key = crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]) as Promise<CryptoKey>;
  const mac = async (s: string) => new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(s)));
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

/** Failed logins per client in a sliding minute; `blocked` once there were `limit`. */
export function loginLimiter(limit = 5, windowMs = 60_000, now = () => Date.now()) {
  const failures = new Map<string, number[]>();
  const recent = (key: string) => {
    const t = now();
    const list = (failures.get(key) ?? []).filter((at) => t - at < windowMs);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  return {
    /** Seconds until the client may try again, or 0 if it may now. */
    retryAfter(key: string) {
      const list = recent(key);
      return list.length >= limit ? Math.max(1, Math.ceil((list[0]! + windowMs - now()) / 1000)) : 0;
    },
    fail(key: string) {
      const list = recent(key);
      list.push(now());
      failures.set(key, list);
      if (failures.size > 10_000) for (const k of failures.keys()) recent(k);
    },
    succeed(key: string) {
      failures.delete(key);
    },
  };
}

export function sessions({ secret, secure, ttlSeconds = DEFAULT_TTL }: SessionOptions) {
  const cookie = (maxAge: number) => ({ path: PATH, httpOnly: true, secure, sameSite: "Strict" as const, maxAge });
  return {
    async start(c: Context, user: string) {
      const session: Session = { user, expires: Date.now() + ttlSeconds * 1000, csrf: randomToken() };
      await setSignedCookie(c, SESSION_COOKIE, JSON.stringify(session), secret, cookie(ttlSeconds));
      return session;
    },
    async read(c: Context): Promise<Session | null> {
      const raw = await getSignedCookie(c, secret, SESSION_COOKIE);
      if (!raw) return null;
      try {
        const s = JSON.parse(raw) as Session;
        if (typeof s.user !== "string" || typeof s.csrf !== "string" || typeof s.expires !== "number") return null;
        return s.expires > Date.now() ? s : null;
      } catch {
        return null;
      }
    },
    end(c: Context) {
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
  return constantTimeEqual(encoder.encode(session.csrf), encoder.encode(sent));
}
