import { bearerToken, CacheEnv, DbEnv, port, ServerEnv } from "@bazaar/lib/config.ts";

export const ApiEnv = {
  ...ServerEnv,
  PORT: port(5003),
  ...DbEnv,
  ...CacheEnv,
  /** Shared with the web tier: every call but the health checks carries it. */
  API_TOKEN: bearerToken(),
};
