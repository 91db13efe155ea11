// Builds the api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { CATALOG } from "@bazaar/lib/catalog.ts";
import { createCache } from "@bazaar/lib/cache.ts";
import { loadConfig } from "@bazaar/lib/config.ts";
import { createDb } from "@bazaar/lib/db.ts";
import type { Running } from "@bazaar/lib/runtime/start.ts";
import { createApp } from "./app.ts";
import { ApiEnv } from "./config.ts";

export function server(env: Record<string, string | undefined>): Running {
  const config = loadConfig(ApiEnv, env);
  const db = createDb(config);
  const cache = createCache(config, { namespaces: [CATALOG, "order"] });
  const app = createApp({ db, cache, token: config.API_TOKEN });
  return {
    fetch: app.fetch,
    port: config.PORT,
    hostname: config.HOST,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    close: async () => {
      cache.close();
      await db.close();
    },
  };
}
