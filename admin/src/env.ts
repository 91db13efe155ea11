import type { HonoEnv } from "@bazaar/lib/log.ts";
import type { Site } from "@bazaar/lib/ui/layout.tsx";
import type { AdminApiClient } from "./admin-api-client.ts";
import type { Session, Sessions } from "./session.ts";

/** Hono's Env of the admin site, per request: the request id and, past the guard, the session. */
export type AdminHonoEnv = { Variables: HonoEnv["Variables"] & { session: Session } };

/** What the admin routes get. */
export type AdminDeps = {
  adminApi: AdminApiClient;
  /** admin-api as the catalogue's writes call it: with their own deadline (API_WRITE_TIMEOUT_MS). */
  adminWrites: AdminApiClient;
  identity: string;
  site: Site;
  sessions: Sessions;
  /** The key the proxy signs the client's address and host with (REQUEST_ID_KEY): lib/src/forwarded.ts. */
  proxyKey?: string;
};
