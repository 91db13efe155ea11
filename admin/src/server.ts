// Builds the admin site from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { loadConfig } from "@bazaar/lib/config.ts";
import { fromConfig, identity } from "@bazaar/lib/runtime/start.ts";
import { createAdminApiClient } from "./admin-api-client.ts";
import { createApp } from "./app.ts";
import { AdminEnv } from "./config.ts";

export const server = (env: Record<string, string | undefined>) =>
  fromConfig(loadConfig(AdminEnv, env), (config) =>
    createApp({
      adminApi: createAdminApiClient({
        url: config.ADMIN_API_URL,
        token: config.ADMIN_API_TOKEN,
        timeoutMs: config.API_TIMEOUT_MS,
      }),
      adminWrites: createAdminApiClient({
        url: config.ADMIN_API_URL,
        token: config.ADMIN_API_TOKEN,
        timeoutMs: config.API_WRITE_TIMEOUT_MS,
      }),
      identity: identity(config.INSTANCE_NAME),
      credentials: { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD },
      sessionSecret: config.SESSION_SECRET,
      cookieSecure: config.COOKIE_SECURE,
      proxyKey: config.REQUEST_ID_KEY,
    }));
