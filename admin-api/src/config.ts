import {
  bearerToken,
  CacheEnv,
  ConfigError,
  DbEnv,
  optionalInteger,
  port,
  ServerEnv,
} from "@bazaar/lib/config.ts";
import { MAX_STOCK } from "@bazaar/lib/schemas.ts";

/** The longest restocking interval: a day. */
export const MAX_RESTOCK_EVERY_S = 86_400;

export const AdminApiEnv = {
  ...ServerEnv,
  PORT: port(5002),
  ...DbEnv,
  ...CacheEnv,
  /** Shared with the admin site: every call but the health checks carries it. */
  ADMIN_API_TOKEN: bearerToken(),
  /**
   * Restocking, the lab's part 3 (./restock.ts): every RESTOCK_EVERY_S seconds each
   * item at 0 is set to RESTOCK_TO. Off unless both are set (a shop restocks by hand).
   */
  RESTOCK_EVERY_S: optionalInteger(1, MAX_RESTOCK_EVERY_S),
  RESTOCK_TO: optionalInteger(1, MAX_STOCK),
};

export type RestockPlan = { everyMs: number; to: number };

/**
 * The restocking the config asks for, or null for none. Half of it is a mistake,
 * stopped at start-up like any bad variable, rather than a store that silently
 * never restocks.
 */
export function restockPlan(config: { RESTOCK_EVERY_S?: number; RESTOCK_TO?: number }): RestockPlan | null {
  const { RESTOCK_EVERY_S: every, RESTOCK_TO: to } = config;
  if (every === undefined && to === undefined) return null;
  if (every === undefined || to === undefined) {
    const [missing, given] = every === undefined
      ? ["RESTOCK_EVERY_S", "RESTOCK_TO"]
      : ["RESTOCK_TO", "RESTOCK_EVERY_S"];
    throw new ConfigError(
      `bad configuration:\n  ${missing}: is required when ${given} is set (set both to restock, or neither)`,
    );
  }
  return { everyMs: every * 1000, to };
}
