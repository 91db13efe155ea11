// Builds the storefront from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { loadConfig } from "@bazaar/lib/config.ts";
import { fromConfig, identity } from "@bazaar/lib/runtime/start.ts";
import { createApiClient, leaseOf } from "./api-client.ts";
import { createApp } from "./app.ts";
import { WebEnv } from "./config.ts";

export const server = (env: Record<string, string | undefined>) =>
  fromConfig(loadConfig(WebEnv, env), (config) => {
    const api = createApiClient({
      url: config.API_URL,
      token: config.API_TOKEN,
      timeoutMs: config.API_TIMEOUT_MS,
    });
    const lease = config.CATALOG_FROM_MEMORY ? leaseOf(api, config) : undefined;
    const app = createApp({
      api,
      purchases: createApiClient({
        url: config.API_URL,
        token: config.API_TOKEN,
        timeoutMs: config.API_WRITE_TIMEOUT_MS,
      }),
      identity: identity(config.INSTANCE_NAME),
      requestIdKey: config.REQUEST_ID_KEY,
      apiTimeoutMs: config.API_TIMEOUT_MS,
      catalogBytes: config.CATALOG_MEMORY_MB * 1024 * 1024,
      lease,
    });
    return { fetch: app.fetch, close: () => lease?.stop() };
  });
