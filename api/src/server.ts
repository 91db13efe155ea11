// Builds the api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { CATALOG } from "@bazaar/lib/catalog.ts";
import { backend } from "@bazaar/lib/runtime/backend.ts";
import { createApp } from "./app.ts";
import { ApiEnv } from "./config.ts";

export const server = (env: Record<string, string | undefined>) =>
  backend(env, ApiEnv, [CATALOG, "order"], (deps, config) => createApp({ ...deps, token: config.API_TOKEN }));
