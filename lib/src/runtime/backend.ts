// The wiring both internal APIs share: from the config, the MySQL pool, the cache,
// the app, and what to close on shutdown.
import { type CacheConfig, createCache } from "../data/cache.ts";
import { createDb, type DbConfig } from "../data/db.ts";
import type { ServiceDeps } from "../data/service.ts";
import { fromConfig, type Running, type ServerConfig } from "./start.ts";

/**
 * An API's server from its config: the MySQL pool and the cache it is built on, and
 * both closed after the app on shutdown.
 * @example
 * backend(loadConfig(ApiEnv, env), (deps, config) => createApp({ ...deps, token: config.API_TOKEN }));
 */
export function backend<C extends ServerConfig & DbConfig & CacheConfig>(
  config: C,
  makeApp: (deps: ServiceDeps, config: C) => Pick<Running, "fetch" | "close" | "endStreams">,
): Running {
  return fromConfig(config, (config) => {
    const db = createDb(config);
    const cache = createCache(config);
    const app = makeApp({ db, cache }, config);
    return {
      fetch: app.fetch,
      endStreams: app.endStreams,
      close: async () => {
        await app.close?.();
        cache.close();
        await db.close();
      },
    };
  });
}
