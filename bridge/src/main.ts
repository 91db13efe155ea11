// Bun entry: the bridge on PORT (else SRH_PORT), with SRH's env or file mode (config.ts).
import { serve } from "@bazaar/lib/runtime/bun.ts";
import { createBridge } from "./app.ts";
import { bridgeConfig } from "./config.ts";
import { Redis } from "./redis.ts";

serve("bridge", () => {
  const config = bridgeConfig(process.env);
  // Tokens that reach the same Redis share its connections.
  const clients = new Map<string, Redis>();
  const routes = config.tokens.map(({ token, connectionString }) => {
    if (!clients.has(connectionString)) clients.set(connectionString, new Redis({ url: connectionString }));
    return { token, redis: clients.get(connectionString)! };
  });
  const app = createBridge({ routes });
  return {
    fetch: app.fetch,
    port: config.PORT,
    hostname: config.HOST,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    close: () => clients.forEach((redis) => redis.close()),
  };
});
