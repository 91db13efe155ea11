// The wiring both internal APIs share: config from the environment, the MySQL pool,
// the cache, the app, and what to close on shutdown.
import type * as v from "valibot";
import { type CacheConfig, createCache } from "../data/cache.ts";
import { createDb, type DbConfig } from "../data/db.ts";
import type { ServiceDeps } from "../data/service.ts";
import { fromEnv, type Running } from "./start.ts";

export function backend<const E extends v.ObjectEntries>(
  env: Record<string, string | undefined>,
  entries: E,
  makeApp: (
    deps: ServiceDeps,
    config: v.InferOutput<v.ObjectSchema<E, undefined>>,
  ) => { fetch: Running["fetch"]; close?: () => unknown },
): Running {
  return fromEnv(env, entries, (config) => {
    const db = createDb(config as unknown as DbConfig);
    const cache = createCache(config as unknown as CacheConfig);
    const app = makeApp({ db, cache }, config);
    return {
      fetch: app.fetch,
      close: async () => {
        await app.close?.();
        cache.close();
        await db.close();
      },
    };
  });
}
