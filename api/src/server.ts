// Builds the api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import { loadConfig } from "@bazaar/lib/config.ts";
import { backend } from "@bazaar/lib/runtime/backend.ts";
import type { Running } from "@bazaar/lib/runtime/start.ts";
import { createApp } from "./app.ts";
import { feedHub } from "./feed-hub.ts";
import { ApiEnv } from "./config.ts";
import { cacheRelay, type Relay } from "./relay.ts";

export type ApiServer = Running & {
  /** Starts the cache's relay: once serving, never in a one-shot run. */
  startBackground(): void;
};

export const server = (env: Record<string, string | undefined>): ApiServer => {
  let relay: Relay | undefined;
  const running = backend(loadConfig(ApiEnv, env), (deps, config) => {
    const redis = catalogCache(deps.cache);
    relay = cacheRelay({ db: deps.db, redis });
    const hub = feedHub(redis.feed);
    const app = createApp({ ...deps, token: config.API_TOKEN, relay, redis, hub });
    // A cycle under way finishes before the pools close; the web servers' streams end
    // when draining begins (they reconnect to another instance).
    return { fetch: app.fetch, close: () => relay?.stop(), endStreams: () => hub.endAll() };
  });
  return { ...running, startBackground: () => relay?.start() };
};
