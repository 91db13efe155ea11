import { CacheEnv, DbEnv, port, secret, ServerEnv } from "@bazaar/lib/config.ts";

export const AdminApiEnv = {
  ...ServerEnv,
  PORT: port(5002),
  ...DbEnv,
  ...CacheEnv,
  /** Shared with the admin site: every call but the health checks carries it. */
  ADMIN_API_TOKEN: secret(),
};
