// Bun entry: the bridge on PORT, talking to SRH_CONNECTION_STRING.
import { loadConfig } from "@bazaar/lib/config.ts";
import { serve } from "@bazaar/lib/runtime/bun.ts";
import { createBridge } from "./app.ts";
import { BridgeEnv } from "./config.ts";
import { Redis } from "./redis.ts";

serve("bridge", () => {
  const config = loadConfig(BridgeEnv, process.env);
  const redis = new Redis({ url: config.SRH_CONNECTION_STRING });
  const app = createBridge({ redis, token: config.SRH_TOKEN });
  return { fetch: app.fetch, port: config.PORT, hostname: config.HOST, drainMs: config.SHUTDOWN_DRAIN_MS, close: () => redis.close() };
});
