// Builds the admin-api from the environment; main.ts (Bun) and main.deno.ts (Deno) serve it.
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import { loadConfig } from "@bazaar/lib/config.ts";
import { backend } from "@bazaar/lib/runtime/backend.ts";
import type { Running } from "@bazaar/lib/runtime/start.ts";
import { createApp } from "./app.ts";
import { restockAndClear } from "./clear.ts";
import { AdminApiEnv, restockPlan } from "./config.ts";
import { type Restocker, restocker } from "./restock.ts";
import { claimRound } from "./rounds.ts";

export type AdminApiServer = Running & {
  /** Starts the background work (the timed restocking, when configured): once serving, never in a one-shot run. */
  startBackground(): void;
};

export const server = (env: Record<string, string | undefined>): AdminApiServer => {
  let restocks: Restocker | undefined;
  const running = backend(loadConfig(AdminApiEnv, env), (deps, config) => {
    // Half a restocking config stops the start here, like any bad variable.
    const plan = restockPlan(config);
    if (plan) {
      restocks = restocker({
        restock: restockAndClear(deps.db, catalogCache(deps.cache)),
        plan,
        claim: claimRound(deps.db, plan.everyMs),
      });
    }
    return createApp({ ...deps, token: config.ADMIN_API_TOKEN });
  });
  return {
    ...running,
    startBackground: () => restocks?.start(),
    // A round under way finishes before the pools close.
    close: async () => {
      await restocks?.stop();
      await running.close?.();
    },
  };
};
