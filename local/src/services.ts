// The service table: every process of the topology in start order (docs/internals.md)
// — the ports it listens on (the variable that sets each, the design's port, the
// variables its address is told under), when it starts, how it runs and is probed,
// and what the launcher does around its start. The rest of this module reads it:
// the ports (PORT_DEFAULTS, PORT_ENV, resolvePorts), the stack's URLs and variables,
// HAProxy's variables, and the services a stack with N web and admin servers runs.
import { existsSync } from "node:fs";
import path from "node:path";
import { withRedisPassword } from "@bazaar/lib/secrets/secrets.ts";
import {
  DEFAULT_SERVERS,
  MAX_SERVERS,
  REPO_ROOT,
  type Secrets,
  type Servers,
  type ServerTier,
} from "./config.ts";
import type { Probe } from "./health.ts";
import type { Command } from "./managed-process.ts";
import { type DbBins, type DbLayout, ensureInstalled, mariadbdCommand, seedAndConfigure } from "./mariadb.ts";
import { appCommand, type AppName, type Commands, type Runtime } from "./runtime.ts";
import { redisAccount, redisCommand, writeRedisConf } from "./redis.ts";

const HOST = "127.0.0.1";
const http = (port: number) => `http://${HOST}:${port}`;

/** Each service's ports by name (the table below gives each its row). */
type OwnPorts = {
  db: "db";
  redis: "redis";
  cache: "cache";
  api: "api";
  "admin-api": "adminApi";
  proxy: "store" | "stats";
};

/** Every service but the web and admin servers, of which a stack runs as many as asked for (web-1 … web-N). */
export type ServiceName = keyof OwnPorts | `${ServerTier}-${number}`;

/** The web and admin servers beyond the first two have optional keys: web3 … web9, admin3 … admin9. */
type ExtraServerPort = `${ServerTier}${3 | 4 | 5 | 6 | 7 | 8 | 9}`;
export type Ports =
  & Record<OwnPorts[keyof OwnPorts] | `${ServerTier}${1 | 2}`, number>
  & Partial<Record<ExtraServerPort, number>>;

/** One port a service listens on. */
type PortRow = {
  /** The design's port. */
  port: number;
  /** The variable that sets it; the stack's variables (stack.env) carry it too. */
  env: string;
  /** Its address as stack.urls tells it. */
  url: (port: number) => string;
  /** The variables of stack.env that carry that address. */
  urlEnv?: readonly string[];
  /** The variable that gives it to proxy/haproxy.cfg (as 127.0.0.1:port): a bind of its own, or a server's address. */
  proxyEnv?: string;
};

/** What a service is run with: the stack's configuration, resolved. */
export type Context = {
  ports: Ports;
  /** How many web and admin servers (default two each); their ports are in `ports` (web1, web3, …). */
  servers?: Servers;
  secrets: Secrets;
  bins: DbBins & { redis: string; haproxy: string };
  db: DbLayout;
  /** The stack's data dir, where files its services read are written. */
  dataDir: string;
  runtime: Runtime;
  /** Per app or per service: the command (argv) to run instead. */
  commands: Commands;
  /** For web/admin: how long they keep serving after SIGTERM so HAProxy moves away. */
  drainMs: number;
  /** Extra environment for every app (e.g. DB_POOL_SIZE, CACHE_TTL_SECONDS). */
  appEnv: Record<string, string | undefined>;
  /** The map file the proxy reads the request-id key from (./request-id-key.ts); unset, it signs nothing. */
  requestIdKeyMap?: string;
};

type Log = (line: string) => void;

/** How one service is run, probed and stopped, and the launcher's steps around its start. */
export type Run = {
  /** Read at each start (so a stack.setEnv() or a missing dist/<app> shows then). */
  command: () => Command;
  /** Healthy once every one passes, in order. */
  probes: Probe[];
  /** Grace between SIGTERM and SIGKILL. */
  stopTimeoutMs: number;
  /**
   * It clears O_APPEND on its output: HAProxy makes its stdout non-blocking with
   * F_SETFL, so its writes to a log file of its own open would land over the
   * launcher's lines (and a restarted proxy's over its own). With logs in files it
   * shares the launcher's open file instead (managed-process.ts).
   */
  clearsAppend?: boolean;
  /** How long its probes may take, given the stack's start timeout. */
  startTimeoutMs?: (timeoutMs: number) => number;
  /** Before each start: what the process reads must be in place (the db's system tables, a file the proxy reads). */
  beforeStart?: (log: Log) => Promise<unknown> | unknown;
  /** Once healthy, before the next level starts (the db's schema, seed and accounts). */
  afterHealthy?: (log: Log) => Promise<unknown> | unknown;
};

type ServiceRow<K extends string> = {
  /** Start order: everything of one level starts together, after the level before is healthy. */
  level: number;
  /** Other names it is known by (stack.start("bridge")). */
  aliases?: readonly string[];
  ports: Record<K, PortRow>;
  run(ctx: Context): Run;
};

/** A tier's servers: web-1 … web-N, all alike but for their port. */
type TierRow = {
  level: number;
  /** The design's two servers' ports (web-1, web-2). */
  ports: readonly [number, number];
  /** Where server n beyond the second listens unless its own variable (WEB3_PORT, …) says. */
  beyond: (first: number, n: number) => number;
  run(ctx: Context, name: ServiceName, port: number): Run;
};

type Table = { [N in keyof OwnPorts]: ServiceRow<OwnPorts[N]> } & Record<ServerTier, TierRow>;

/** The table, in start order. */
const SERVICES: Table = {
  db: {
    level: 0,
    aliases: ["mariadb", "mysql"],
    ports: { db: { port: 3306, env: "DB_PORT", url: (p) => `mysql://${HOST}:${p}/bazaar` } },
    run: (ctx) => ({
      command: () => ({
        cmd: ctx.commands.db ?? mariadbdCommand(ctx.bins, ctx.db, ctx.ports.db),
        cwd: REPO_ROOT,
        env: { ...process.env },
      }),
      probes: [{ tcp: { host: HOST, port: ctx.ports.db } }],
      // InnoDB flushes on a clean shutdown; give it time rather than SIGKILL it.
      stopTimeoutMs: 30_000,
      // The first start creates the system tables and loads db/init.sql.
      startTimeoutMs: (t) => (existsSync(ctx.db.seeded) ? t : Math.max(t, 90_000)),
      beforeStart: (log) => ensureInstalled(ctx.bins, ctx.db, log),
      afterHealthy: (log) =>
        seedAndConfigure(
          ctx.bins,
          ctx.db,
          { api: ctx.secrets.API_DB_PASSWORD, admin: ctx.secrets.ADMIN_DB_PASSWORD },
          log,
        ),
    }),
  },
  redis: {
    level: 0,
    ports: {
      redis: { port: 6379, env: "REDIS_PORT", url: (p) => `redis://${HOST}:${p}`, urlEnv: ["REDIS_URL"] },
    },
    run: (ctx) => {
      // Its password in a file of the launcher's (./redis.ts), rewritten at each start.
      const conf = path.join(ctx.dataDir, "run", "redis.conf");
      return {
        command: () => ({
          // Every client gives the password; started by root, it runs as the redis
          // account. The cache is disposable: no snapshots, no append-only file. Its
          // memory is bounded: past it, keys with a TTL go, least recently used first
          // (never the generation and floor keys, which have none: lib/src/catalog-cache.ts).
          cmd: ctx.commands.redis ??
            redisCommand(ctx.bins.redis, conf, [
              "--port",
              String(ctx.ports.redis),
              "--bind",
              HOST,
              "--save",
              "",
              "--appendonly",
              "no",
              "--maxmemory",
              "256mb",
              "--maxmemory-policy",
              "volatile-lru",
              "--daemonize",
              "no",
            ], redisAccount()),
          program: ctx.commands.redis ? undefined : ctx.bins.redis,
          cwd: REPO_ROOT,
          env: { ...process.env },
        }),
        probes: [{ tcp: { host: HOST, port: ctx.ports.redis } }],
        stopTimeoutMs: 5000,
        beforeStart: () => writeRedisConf(path.dirname(conf), ctx.secrets.REDIS_PASSWORD),
      };
    },
  },
  cache: {
    level: 1,
    // The cache endpoint is the bridge locally, SRH in compose.
    aliases: ["bridge", "srh"],
    ports: {
      cache: { port: 8079, env: "CACHE_PORT", url: http, urlEnv: ["CACHE_URL", "UPSTASH_REDIS_REST_URL"] },
    },
    run: (ctx) => ({
      command: () => ({
        cmd: appCommand(ctx, "bridge", "cache"),
        cwd: REPO_ROOT,
        env: {
          ...appBase(ctx),
          HOST,
          PORT: String(ctx.ports.cache),
          INSTANCE_NAME: "cache",
          SRH_TOKEN: ctx.secrets.SRH_TOKEN,
          SRH_CONNECTION_STRING: withRedisPassword(
            `redis://${HOST}:${ctx.ports.redis}`,
            ctx.secrets.REDIS_PASSWORD,
          ),
        },
      }),
      // SRH's liveness answer is GET / (it has no /healthz); the bridge keeps it.
      probes: [{ http: `${http(ctx.ports.cache)}/` }],
      stopTimeoutMs: 5000,
    }),
  },
  api: {
    level: 2,
    ports: { api: { port: 5003, env: "API_PORT", url: http, urlEnv: ["API_URL"] } },
    run: (ctx) =>
      app(ctx, "api", "api", ctx.ports.api, {
        ...dbEnv(ctx, "bazaar_api", ctx.secrets.API_DB_PASSWORD),
        API_TOKEN: ctx.secrets.API_TOKEN,
      }),
  },
  "admin-api": {
    level: 2,
    ports: { adminApi: { port: 5002, env: "ADMIN_API_PORT", url: http, urlEnv: ["ADMIN_API_URL"] } },
    run: (ctx) =>
      app(ctx, "admin-api", "admin-api", ctx.ports.adminApi, {
        ...dbEnv(ctx, "bazaar_admin", ctx.secrets.ADMIN_DB_PASSWORD),
        ADMIN_API_TOKEN: ctx.secrets.ADMIN_API_TOKEN,
      }),
  },
  web: {
    level: 3,
    ports: [8083, 8084],
    // 8085 … 8091, right after web-2.
    beyond: (first, n) => first + n - 1,
    run: (ctx, name, port) =>
      app(ctx, name, "web", port, {
        API_URL: http(ctx.ports.api),
        API_TOKEN: ctx.secrets.API_TOKEN,
        REQUEST_ID_KEY: ctx.secrets.REQUEST_ID_KEY,
        SHUTDOWN_DRAIN_MS: String(ctx.drainMs),
      }),
  },
  admin: {
    level: 3,
    ports: [8081, 8082],
    // 8093 … 8099: admin-2's next ports are web's.
    beyond: (first, n) => first + n + 9,
    run: (ctx, name, port) =>
      app(ctx, name, "admin", port, {
        ADMIN_API_URL: http(ctx.ports.adminApi),
        ADMIN_API_TOKEN: ctx.secrets.ADMIN_API_TOKEN,
        ADMIN_USER: ctx.secrets.ADMIN_USER,
        ADMIN_PASSWORD: ctx.secrets.ADMIN_PASSWORD,
        SESSION_SECRET: ctx.secrets.SESSION_SECRET,
        // The proxy signs the client's address and host with it (lib/src/forwarded.ts).
        REQUEST_ID_KEY: ctx.secrets.REQUEST_ID_KEY,
        COOKIE_SECURE: "false",
        SHUTDOWN_DRAIN_MS: String(ctx.drainMs),
      }),
  },
  proxy: {
    level: 4,
    aliases: ["haproxy"],
    ports: {
      store: { port: 8080, env: "STORE_PORT", url: http, urlEnv: ["STORE_URL"], proxyEnv: "STORE_BIND" },
      stats: { port: 8404, env: "STATS_PORT", url: http, urlEnv: ["STATS_URL"], proxyEnv: "STATS_BIND" },
    },
    run: (ctx) => ({
      command: () => ({
        cmd: ctx.commands.proxy ??
          [ctx.bins.haproxy, "-db", "-f", path.join(REPO_ROOT, "proxy/haproxy.cfg")],
        cwd: REPO_ROOT,
        env: {
          ...withoutServerAddrs(process.env),
          ...haproxyEnv(
            ctx.ports,
            { user: ctx.secrets.STATS_USER, password: ctx.secrets.STATS_PASSWORD },
            ctx.servers,
          ),
          ...(ctx.requestIdKeyMap ? { REQUEST_ID_KEY_MAP: ctx.requestIdKeyMap } : {}),
        },
      }),
      // Up when the public port answers /healthz through a web server. The stats
      // port only by TCP: its page wants the login, which a probe's URL would print.
      probes: [{ tcp: { host: HOST, port: ctx.ports.stats } }, { http: `${http(ctx.ports.store)}/healthz` }],
      stopTimeoutMs: 5000,
      clearsAppend: true,
    }),
  },
};

const appBase = (ctx: Context) => ({ ...process.env, ...ctx.appEnv });

/** An app on its port: probed at /healthz. */
const app = (
  ctx: Context,
  name: ServiceName,
  code: AppName,
  port: number,
  env: Record<string, string>,
): Run => ({
  command: () => ({
    cmd: appCommand(ctx, code, name),
    cwd: REPO_ROOT,
    env: { ...appBase(ctx), HOST, PORT: String(port), INSTANCE_NAME: name, ...env },
  }),
  probes: [{ http: `${http(port)}/healthz` }],
  // Web and admin drain first (drainMs), then finish what is in flight.
  stopTimeoutMs: ctx.drainMs + 8000,
});

/** What api and admin-api need for the database and the cache. */
const dbEnv = (ctx: Context, user: string, password: string) => ({
  DB_HOST: HOST,
  DB_PORT: String(ctx.ports.db),
  DB_NAME: "bazaar",
  DB_USER: user,
  DB_PASSWORD: password,
  UPSTASH_REDIS_REST_URL: http(ctx.ports.cache),
  UPSTASH_REDIS_REST_TOKEN: ctx.secrets.SRH_TOKEN,
  SHUTDOWN_DRAIN_MS: "0",
});

/** The environment without any WEB<n>_ADDR / ADMIN<n>_ADDR: one left in a shell would add a server to the proxy. */
const withoutServerAddrs = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => !/^(WEB|ADMIN)\d+_ADDR$/.test(k)));

const TIERS: readonly ServerTier[] = ["web", "admin"];
const isTier = (key: keyof Table): key is ServerTier => (TIERS as readonly string[]).includes(key);

/** One port of a stack: its row, its key, and where it is unless set. */
type PortSlot = Omit<PortRow, "port"> & { key: keyof Ports; fallback: (ports: Ports) => number };

/** One service of a stack with these servers: its name, level, ports and how it runs. */
type Instance = {
  name: ServiceName;
  level: number;
  aliases: readonly string[];
  slots: PortSlot[];
  run: (ctx: Context) => Run;
};

/** The Ports key of a tier's n-th server (web1, admin3, …). */
export const serverPortKey = (tier: ServerTier, n: number) => `${tier}${n}` as keyof Ports;

/** A tier's servers by name: web-1 … web-N. */
export const serverNames = (tier: ServerTier, count: number): ServiceName[] =>
  Array.from({ length: count }, (_, i) => `${tier}-${i + 1}` as const);

function instances(servers: Servers): Instance[] {
  return (Object.keys(SERVICES) as (keyof Table)[]).flatMap((key): Instance[] => {
    if (isTier(key)) {
      const row = SERVICES[key];
      const stem = key.toUpperCase();
      return serverNames(key, servers[key]).map((name, i) => {
        const n = i + 1;
        const slot: PortSlot = {
          key: serverPortKey(key, n),
          fallback: (ports) => row.ports[n - 1] ?? row.beyond(ports[serverPortKey(key, 1)]!, n),
          env: `${stem}${n}_PORT`,
          url: http,
          urlEnv: [`${stem}${n}_URL`],
          proxyEnv: `${stem}${n}_ADDR`,
        };
        return {
          name,
          level: row.level,
          aliases: [],
          slots: [slot],
          run: (ctx) => row.run(ctx, name, serverPort(ctx.ports, key, n)),
        };
      });
    }
    const row: ServiceRow<string> = SERVICES[key];
    const slots = Object.entries(row.ports).map(([k, { port, ...p }]): PortSlot => ({
      ...p,
      key: k as keyof Ports,
      fallback: () => port,
    }));
    return [{ name: key, level: row.level, aliases: row.aliases ?? [], slots, run: (ctx) => row.run(ctx) }];
  });
}

/** The ports resolved whatever the count: the design's two of each tier are always among them. */
const resolvedServers = (servers: Servers): Servers => ({
  web: Math.max(servers.web, DEFAULT_SERVERS.web),
  admin: Math.max(servers.admin, DEFAULT_SERVERS.admin),
});
const slotsOf = (servers: Servers) => instances(servers).flatMap((i) => i.slots);

/** A stack's services in start order, with these many web and admin servers. */
export const serviceNames = (servers: Servers = DEFAULT_SERVERS): ServiceName[] =>
  instances(servers).map((i) => i.name);

/** The default stack's services (two web, two admin servers). */
export const SERVICE_NAMES: readonly ServiceName[] = serviceNames();

/** Other names a service is known by (the cache endpoint is the bridge locally, SRH in compose). */
export const ALIASES: Record<string, ServiceName> = Object.fromEntries(
  instances(DEFAULT_SERVERS).flatMap((i) => i.aliases.map((a) => [a, i.name])),
);

/** The environment variable that sets each port. */
export const PORT_ENV = Object.fromEntries(
  slotsOf({ web: MAX_SERVERS, admin: MAX_SERVERS }).map((s) => [s.key, s.env]),
) as Record<keyof Ports, string>;

type Env = Record<string, string | undefined>;

/**
 * Each port from the options, else its variable, else the design's. A tier's servers
 * beyond the second follow its first (web-n on WEB1_PORT + n − 1, admin-n on
 * ADMIN1_PORT + n + 9) unless their own variable says.
 */
export function resolvePorts(
  given: Partial<Ports> | undefined,
  env: Env,
  servers: Servers = DEFAULT_SERVERS,
): Ports {
  const ports = {} as Ports;
  // In table order, so that web-3 follows where web-1 was put.
  for (const slot of slotsOf(resolvedServers(servers))) {
    const raw = given?.[slot.key] ?? env[slot.env];
    if (raw === undefined || raw === "") {
      ports[slot.key] = slot.fallback(ports);
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${slot.env}: not a port: ${raw}`);
    ports[slot.key] = n;
  }
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other) throw new Error(`${PORT_ENV[key as keyof Ports]} and ${other} are both ${port}`);
    seen.set(port, PORT_ENV[key as keyof Ports]);
  }
  return ports;
}

/** The design's ports. */
export const PORT_DEFAULTS: Ports = resolvePorts(undefined, {});

/** The ports a stack with these servers uses (web-2's is not one when WEB_SERVERS=1). */
export const portKeysInUse = (servers: Servers): (keyof Ports)[] => slotsOf(servers).map((s) => s.key);

/** A tier's n-th server's port (web-3's is ports.web3). */
export const serverPort = (ports: Ports, tier: ServerTier, n: number): number =>
  portOf(ports, serverPortKey(tier, n));

/** A port of `ports`, or a clear error for one of a server they were not resolved for. */
function portOf(ports: Ports, key: keyof Ports): number {
  const port = ports[key];
  if (port === undefined) {
    throw new Error(`no port for ${key} (resolvePorts with the stack's servers gives one)`);
  }
  return port;
}

/** Every port's address (store, api, …, web1, web2), and every server's of each tier, first first. */
export type StackUrls = { [K in keyof Ports]: string } & Record<ServerTier, string[]>;

export function stackUrls(ports: Ports, servers: Servers): StackUrls {
  const urls = Object.fromEntries(
    slotsOf(resolvedServers(servers)).map((s) => [s.key, s.url(portOf(ports, s.key))]),
  ) as Record<keyof Ports, string>;
  return {
    ...urls,
    web: serverNames("web", servers.web).map((_, i) => http(serverPort(ports, "web", i + 1))),
    admin: serverNames("admin", servers.admin).map((_, i) => http(serverPort(ports, "admin", i + 1))),
  } as StackUrls;
}

/** The ports and addresses of the services a stack runs as variables: STORE_PORT, STORE_URL, WEB3_URL, … */
export function addressEnv(ports: Ports, servers: Servers): Record<string, string> {
  return Object.fromEntries(
    slotsOf(servers).flatMap((s) => [
      [s.env, String(portOf(ports, s.key))],
      ...(s.urlEnv ?? []).map((name) => [name, s.url(portOf(ports, s.key))]),
    ]),
  );
}

/**
 * The variables proxy/haproxy.cfg reads, pointing at this stack's 127.0.0.1 ports.
 * Without `stats` (the bench's ceiling) the stats port answers 403 to everything.
 */
export function haproxyEnv(
  ports: Ports,
  stats?: { user: string; password: string },
  servers: Servers = DEFAULT_SERVERS,
): Record<string, string> {
  return {
    // Everyone is 127.0.0.1 here, and `bun run bench` and the load tests send far
    // more than any one real client from it (the ceiling alone ~20,000 requests a
    // second): no request-rate limit worth the name. The connection limit stays
    // compose's (1000 of maxconn's 4096), above the bench's 128 connections.
    REQ_LIMIT_PER_SOURCE_10S: "100000000",
    ...(stats ? { STATS_USER: stats.user, STATS_PASSWORD: stats.password } : {}),
    // STORE_BIND, STATS_BIND, and one WEB<n>_ADDR / ADMIN<n>_ADDR per server this
    // stack runs: haproxy.cfg has a server line for each one set.
    ...Object.fromEntries(
      slotsOf(servers).flatMap((s) => (s.proxyEnv ? [[s.proxyEnv, `${HOST}:${portOf(ports, s.key)}`]] : [])),
    ),
  };
}

/** A service as the launcher runs it: its name and start level, and how it runs. */
export type ServiceDef = Run & { name: ServiceName; level: number };

/** The services of a stack with this configuration, in start order. */
export function buildServices(ctx: Context): ServiceDef[] {
  return instances(ctx.servers ?? DEFAULT_SERVERS).map((i) => ({
    name: i.name,
    level: i.level,
    ...i.run(ctx),
  }));
}
