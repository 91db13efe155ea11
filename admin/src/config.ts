import * as v from "valibot";
import { bearerToken, integer, port, secret, ServerEnv, text, url } from "@bazaar/lib/config.ts";

/** The admin site's environment variables (Hono's Env is AdminHonoEnv, ./env.ts). */
export const AdminEnv = {
  ...ServerEnv,
  PORT: port(8081),
  /** The admin API, e.g. http://127.0.0.1:5002. */
  ADMIN_API_URL: url(),
  /** Shared with admin-api: every call carries it as a Bearer token. */
  ADMIN_API_TOKEN: bearerToken(),
  API_TIMEOUT_MS: integer(3000, 50, 60000),
  /**
   * How long a write to the catalogue waits for admin-api: past admin-api's own write
   * budget (7 s, admin-api/src/once.ts), which covers a database failover.
   */
  API_WRITE_TIMEOUT_MS: integer(8000, 50, 60000),
  ADMIN_USER: text(),
  ADMIN_PASSWORD: secret(),
  /**
   * Shared with the proxy, which signs the client's address and host on the admin's
   * POSTs with it (lib/src/forwarded.ts): only then do they count. Unset, no
   * forwarded address is trusted and every client counts as one for the sign-in limit.
   */
  REQUEST_ID_KEY: v.optional(secret(32)),
  /** Signs the session cookie; the same on every admin instance. */
  SESSION_SECRET: secret(32),
  /** Mark the session cookie Secure (set when the site is served over HTTPS). */
  COOKIE_SECURE: v.optional(
    v.pipe(
      v.picklist(["true", "false", "1", "0"], "must be true or false"),
      v.transform((s) => s === "true" || s === "1"),
    ),
    "false",
  ),
};
