// Builds the admin-api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { CATALOG } from "@bazaar/lib/catalog.ts";
import { backend } from "@bazaar/lib/runtime/backend.ts";
import { createApp } from "./app.ts";
import { AdminApiEnv } from "./config.ts";

export const server = (env: Record<string, string | undefined>) =>
  backend(env, AdminApiEnv, [CATALOG], (deps, config) => createApp({ ...deps, token: config.ADMIN_API_TOKEN }));
