// What the launcher's unit tests share: a service-table context with fixed secrets
// and program paths, nothing started.
import { type Context, DEFAULT_SERVERS, resolvePorts, type Secrets } from "@bazaar/local";

export const TEST_SECRETS: Secrets = {
  API_TOKEN: "t1-xxxxxxxx",
  ADMIN_API_TOKEN: "t2-xxxxxxxx",
  SRH_TOKEN: "t3-xxxxxxxx",
  SESSION_SECRET: "s".repeat(40),
  ADMIN_USER: "admin",
  ADMIN_PASSWORD: "p-xxxxxxxx",
  adminPasswordGenerated: false,
  API_DB_PASSWORD: "d1",
  ADMIN_DB_PASSWORD: "d2",
  STATS_USER: "stats",
  STATS_PASSWORD: "sp-xxxxxxxx",
  REQUEST_ID_KEY: "k".repeat(40),
  REDIS_PASSWORD: "r-xxxxxxxx",
};

/** A context for buildServices(): the default ports of `servers` (two web, two admin unless given). */
export const testContext = (over: Partial<Context> = {}): Context => {
  const servers = over.servers ?? DEFAULT_SERVERS;
  return {
    ports: resolvePorts(undefined, {}, servers),
    servers,
    secrets: TEST_SECRETS,
    bins: {
      mariadbd: "mariadbd",
      installDb: "mariadb-install-db",
      mariadb: "mariadb",
      redis: "redis-server",
      haproxy: "haproxy",
    },
    dataDir: "/tmp/x",
    db: { dir: "/tmp/x", socket: "/tmp/x.sock", pidFile: "/tmp/x.pid", seeded: "/tmp/x.seeded" },
    runtime: "bun",
    commands: {},
    drainMs: 0,
    appEnv: {},
    ...over,
  };
};
