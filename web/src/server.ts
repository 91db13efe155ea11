// Builds the storefront from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { loadConfig } from "@bazaar/lib/config.ts";
import { identity } from "@bazaar/lib/runtime/start.ts";
import type { Running } from "@bazaar/lib/runtime/start.ts";
import { createApiClient } from "./api.ts";
import { createApp } from "./app.ts";
import { WebEnv } from "./config.ts";

export function server(env: Record<string, string | undefined>): Running {
  const config = loadConfig(WebEnv, env);
  const api = createApiClient({
    url: config.API_URL,
    token: config.API_TOKEN,
    timeoutMs: config.API_TIMEOUT_MS,
  });
  const app = createApp({
    api,
    identity: identity(config.INSTANCE_NAME),
    requestIdKey: config.REQUEST_ID_KEY,
  });
  return { fetch: app.fetch, port: config.PORT, hostname: config.HOST, drainMs: config.SHUTDOWN_DRAIN_MS };
}
