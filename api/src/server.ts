// Builds the api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import { loadConfig } from "@bazaar/lib/config.ts";
import { backend } from "@bazaar/lib/runtime/backend.ts";
import type { Running } from "@bazaar/lib/runtime/start.ts";
import { createApp } from "./app.ts";
import { ApiEnv } from "./config.ts";
import { cacheRelay, type Relay } from "./relay.ts";

export type ApiServer = Running & {
  /** Starts the cache's relay: once serving, never in a one-shot run. */
  startBackground(): void;
};

export const server = (env: Record<string, string | undefined>): ApiServer => {
  let relay: Relay | undefined;
  const running = backend(loadConfig(ApiEnv, env), (deps, config) => {
    relay = cacheRelay({ db: deps.db, redis: catalogCache(deps.cache) });
    const app = createApp({ ...deps, token: config.API_TOKEN, relay });
    // A cycle under way finishes before the pools close.
    return { fetch: app.fetch, close: () => relay?.stop() };
  });
  return { ...running, startBackground: () => relay?.start() };
};
