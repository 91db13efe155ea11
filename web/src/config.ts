import * as v from "valibot";
import { bearerToken, flag, integer, port, secret, ServerEnv, url } from "@bazaar/lib/config.ts";

/** The storefront's environment variables (Hono's Env is WebHonoEnv, ./env.ts). */
export const WebEnv = {
  ...ServerEnv,
  PORT: port(8083),
  /** The read API, e.g. http://127.0.0.1:5003. */
  API_URL: url(),
  /** Shared with the api: every call carries it as a Bearer token. */
  API_TOKEN: bearerToken(),
  /** How much of the catalogue (pages and items, with their ETags) a web server keeps in memory, in MB. */
  CATALOG_MEMORY_MB: integer(32, 1, 4096),
  /**
   * Whether the catalogue may be served from memory inside a grant renewed with the api,
   * invalidated by its change stream (web/src/catalog-lease.ts). Off, every read asks
   * the api (to measure what it is worth).
   */
  CATALOG_FROM_MEMORY: flag(true),
  /** How long a page waits for the api before it says the store is unavailable. */
  API_TIMEOUT_MS: integer(3000, 50, 60000),
  /**
   * How long a purchase waits for the api: past the api's own budget (7 s,
   * api/src/purchase.ts), which covers a failover of the database's writer.
   */
  API_WRITE_TIMEOUT_MS: integer(8000, 50, 60000),
  /**
   * Shared with the proxy, which signs each request id with it (lib/src/request-id.ts):
   * only a signed id is kept, so only the proxy's can make a purchase idempotent.
   * Unset, no id is trusted: every request gets its own, and no retry is recognised.
   */
  REQUEST_ID_KEY: v.optional(secret(32)),
};
