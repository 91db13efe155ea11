// The wiring both internal APIs share: config from the environment, the MySQL pool,
// the cache, the app, and what to close on shutdown.
import type * as v from "valibot";
import { type CacheConfig, createCache } from "../cache.ts";
import { loadConfig } from "../config.ts";
import { createDb, type DbConfig } from "../db.ts";
import type { ServiceDeps } from "../service.ts";
import type { Running } from "./start.ts";

type ServerConfig = { PORT: number; HOST: string; SHUTDOWN_DRAIN_MS: number };

export function backend<const E extends v.ObjectEntries>(
  env: Record<string, string | undefined>,
  entries: E,
  namespaces: string[],
  makeApp: (
    deps: ServiceDeps,
    config: v.InferOutput<v.ObjectSchema<E, undefined>>,
  ) => { fetch: Running["fetch"] },
): Running {
  const config = loadConfig(entries, env);
  const { PORT, HOST, SHUTDOWN_DRAIN_MS } = config as unknown as ServerConfig;
  const db = createDb(config as unknown as DbConfig);
  const cache = createCache(config as unknown as CacheConfig, { namespaces });
  const app = makeApp({ db, cache }, config);
  return {
    fetch: app.fetch,
    port: PORT,
    hostname: HOST,
    drainMs: SHUTDOWN_DRAIN_MS,
    close: async () => {
      cache.close();
      await db.close();
    },
  };
}
