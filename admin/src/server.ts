// Builds the admin site from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { loadConfig } from "@bazaar/lib/config.ts";
import { identity, type Running } from "@bazaar/lib/runtime/start.ts";
import { createAdminApiClient } from "./admin-api.ts";
import { createApp } from "./app.ts";
import { AdminEnv } from "./config.ts";

export function server(env: Record<string, string | undefined>): Running {
  const config = loadConfig(AdminEnv, env);
  const adminApi = createAdminApiClient({
    url: config.ADMIN_API_URL,
    token: config.ADMIN_API_TOKEN,
    timeoutMs: config.API_TIMEOUT_MS,
  });
  const app = createApp({
    adminApi,
    identity: identity(config.INSTANCE_NAME),
    credentials: { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD },
    sessionSecret: config.SESSION_SECRET,
    cookieSecure: config.COOKIE_SECURE,
  });
  return { fetch: app.fetch, port: config.PORT, hostname: config.HOST, drainMs: config.SHUTDOWN_DRAIN_MS };
}
