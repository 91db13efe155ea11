// The service table: every process of the topology, what it runs, with which
// environment (docs/internals.md), how it is probed and in which order it starts.
import { existsSync } from "node:fs";
import path from "node:path";
import {
  DEFAULT_SERVERS,
  type Ports,
  REPO_ROOT,
  type Secrets,
  serverPortKey,
  type Servers,
  type ServerTier,
} from "./config.ts";
import type { Probe } from "./health.ts";
import { type DbBins, type DbLayout, mariadbdCommand } from "./mariadb.ts";
import type { Command } from "./processes.ts";

/** Every service but the web and admin servers, of which a stack runs as many as asked for (web-1 … web-N). */
export type ServiceName =
  | "db"
  | "redis"
  | "cache"
  | "api"
  | "admin-api"
  | `web-${number}`
  | `admin-${number}`
  | "proxy";

/** A tier's servers by name: web-1 … web-N. */
export const serverNames = (tier: ServerTier, count: number): ServiceName[] =>
  Array.from({ length: count }, (_, i) => `${tier}-${i + 1}` as const);

/** A stack's services in start order, with these many web and admin servers. */
export const serviceNames = (
  servers: Servers = DEFAULT_SERVERS,
): ServiceName[] => [
  "db",
  "redis",
  "cache",
  "api",
  "admin-api",
  ...serverNames("web", servers.web),
  ...serverNames("admin", servers.admin),
  "proxy",
];

/** The default stack's services (two web, two admin servers). */
export const SERVICE_NAMES: readonly ServiceName[] = serviceNames();

/** Other names a service is known by (the cache endpoint is the bridge locally, SRH in compose). */
export const ALIASES: Record<string, ServiceName> = {
  bridge: "cache",
  srh: "cache",
  mariadb: "db",
  mysql: "db",
  haproxy: "proxy",
};

/** The app code bases; every web-N runs the same code, as does every admin-N. */
export type AppName = "bridge" | "api" | "admin-api" | "web" | "admin";

/**
 * How apps are run. `bun` runs `bun <app>/src/main.ts`; `deno` runs
 * `deno run -A <app>/src/main.deno.ts`; `compiled` runs `dist/<app>` (from
 * `bun build --compile`). An app without the entry that runtime needs falls back to Bun.
 */
export type Runtime = "bun" | "deno" | "compiled";

export type Context = {
  ports: Ports;
  /** How many web and admin servers (default two each); their ports are in `ports` (web1, web3, …). */
  servers?: Servers;
  secrets: Secrets;
  bins: DbBins & { redis: string; haproxy: string };
  db: DbLayout;
  runtime: Runtime;
  /** Per app or per service: the command (argv) to run instead. */
  commands: Partial<Record<AppName | ServiceName, string[]>>;
  /** For web/admin: how long they keep serving after SIGTERM so HAProxy moves away. */
  drainMs: number;
  /** Extra environment for every app (e.g. DB_POOL_SIZE, CACHE_TTL_SECONDS). */
  appEnv: Record<string, string | undefined>;
  /** The map file the proxy reads the request-id key from (./request-id-key.ts); unset, it signs nothing. */
  requestIdKeyMap?: string;
};

export type ServiceDef = {
  name: ServiceName;
  /** Start order: everything of one level starts together, after the level before is healthy. */
  level: number;
  command: () => Command;
  probes: Probe[];
  /** Grace between SIGTERM and SIGKILL. */
  stopTimeoutMs: number;
  /**
   * Output through the launcher even when logs go to files: HAProxy makes its stdout
   * non-blocking with F_SETFL, which drops O_APPEND, so its writes to a shared log
   * file would land over the launcher's lines (and a restarted proxy's over its own).
   */
  pipeOutput?: boolean;
};

const HOST = "127.0.0.1";
const url = (port: number) => `http://${HOST}:${port}`;

/**
 * Deno's own executable: the one the `deno` npm package (a devDependency) ships, so
 * no global install is needed and the process is Deno itself, not its Node wrapper
 * (node_modules/.bin/deno), which would take signals and hide the exit code.
 */
export function denoExecutable(): string {
  const shipped = path.join(REPO_ROOT, "node_modules/deno/deno");
  return existsSync(shipped) ? shipped : "deno";
}

/** The argv that runs an app's Deno entry. */
export const denoCommand = (
  app: AppName,
) => [denoExecutable(), "run", "-A", path.join(app, "src/main.deno.ts")];

export function appCommand(ctx: Context, app: AppName, service: ServiceName): string[] {
  const given = ctx.commands[service] ?? ctx.commands[app];
  if (given) return given;
  const bunEntry = [process.execPath, path.join(app, "src/main.ts")];
  if (ctx.runtime === "deno") {
    const entry = path.join(app, "src/main.deno.ts");
    if (existsSync(path.join(REPO_ROOT, entry))) return denoCommand(app);
  }
  if (ctx.runtime === "compiled") {
    const exe = path.join(REPO_ROOT, "dist", app);
    if (!existsSync(exe)) {
      throw new Error(
        `${service}: STACK_RUNTIME=compiled but ${
          path.relative(REPO_ROOT, exe)
        } does not exist (build it with bun build --compile)`,
      );
    }
    return [exe];
  }
  return bunEntry;
}

export function buildServices(ctx: Context): ServiceDef[] {
  const { ports, secrets } = ctx;
  const servers = ctx.servers ?? DEFAULT_SERVERS;
  const base = { ...process.env, ...ctx.appEnv };
  const app = (
    name: ServiceName,
    code: AppName,
    level: number,
    port: number,
    env: Record<string, string>,
  ): ServiceDef => ({
    name,
    level,
    command: () => ({
      cmd: appCommand(ctx, code, name),
      cwd: REPO_ROOT,
      env: { ...base, HOST, PORT: String(port), INSTANCE_NAME: name, ...env },
    }),
    probes: [{ http: `${url(port)}/healthz` }],
    // Web and admin drain first (drainMs), then finish what is in flight.
    stopTimeoutMs: ctx.drainMs + 8000,
  });

  const dbEnv = (user: string, password: string) => ({
    DB_HOST: HOST,
    DB_PORT: String(ports.db),
    DB_NAME: "bazaar",
    DB_USER: user,
    DB_PASSWORD: password,
    UPSTASH_REDIS_REST_URL: url(ports.cache),
    UPSTASH_REDIS_REST_TOKEN: secrets.SRH_TOKEN,
    SHUTDOWN_DRAIN_MS: "0",
  });
  const webEnv = {
    API_URL: url(ports.api),
    API_TOKEN: secrets.API_TOKEN,
    REQUEST_ID_KEY: secrets.REQUEST_ID_KEY,
    SHUTDOWN_DRAIN_MS: String(ctx.drainMs),
  };
  const adminEnv = {
    ADMIN_API_URL: url(ports.adminApi),
    ADMIN_API_TOKEN: secrets.ADMIN_API_TOKEN,
    ADMIN_USER: secrets.ADMIN_USER,
    ADMIN_PASSWORD: secrets.ADMIN_PASSWORD,
    SESSION_SECRET: secrets.SESSION_SECRET,
    COOKIE_SECURE: "false",
    SHUTDOWN_DRAIN_MS: String(ctx.drainMs),
  };

  return [
    {
      name: "db",
      level: 0,
      command: () => ({
        cmd: ctx.commands.db ?? mariadbdCommand(ctx.bins, ctx.db, ports.db),
        cwd: REPO_ROOT,
        env: { ...process.env },
      }),
      probes: [{ tcp: { host: HOST, port: ports.db } }],
      // InnoDB flushes on a clean shutdown; give it time rather than SIGKILL it.
      stopTimeoutMs: 30_000,
    },
    {
      name: "redis",
      level: 0,
      command: () => ({
        // The cache is disposable: no snapshots, no append-only file.
        cmd: ctx.commands.redis ??
          [
            ctx.bins.redis,
            "--port",
            String(ports.redis),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
          ],
        cwd: REPO_ROOT,
        env: { ...process.env },
      }),
      probes: [{ tcp: { host: HOST, port: ports.redis } }],
      stopTimeoutMs: 5000,
    },
    {
      name: "cache",
      level: 1,
      command: () => ({
        cmd: appCommand(ctx, "bridge", "cache"),
        cwd: REPO_ROOT,
        env: {
          ...base,
          HOST,
          PORT: String(ports.cache),
          INSTANCE_NAME: "cache",
          SRH_TOKEN: secrets.SRH_TOKEN,
          SRH_CONNECTION_STRING: `redis://${HOST}:${ports.redis}`,
        },
      }),
      // SRH's liveness answer is GET / (it has no /healthz); the bridge keeps it.
      probes: [{ http: `${url(ports.cache)}/` }],
      stopTimeoutMs: 5000,
    },
    app("api", "api", 2, ports.api, {
      ...dbEnv("bazaar_api", secrets.API_DB_PASSWORD),
      API_TOKEN: secrets.API_TOKEN,
    }),
    app("admin-api", "admin-api", 2, ports.adminApi, {
      ...dbEnv("bazaar_admin", secrets.ADMIN_DB_PASSWORD),
      ADMIN_API_TOKEN: secrets.ADMIN_API_TOKEN,
    }),
    ...serverNames("web", servers.web).map((name, i) =>
      app(name, "web", 3, serverPort(ports, "web", i + 1), webEnv)
    ),
    ...serverNames("admin", servers.admin).map((name, i) =>
      app(name, "admin", 3, serverPort(ports, "admin", i + 1), adminEnv)
    ),
    {
      name: "proxy",
      level: 4,
      command: () => ({
        cmd: ctx.commands.proxy ?? [ctx.bins.haproxy, "-db", "-f", path.join(REPO_ROOT, "proxy/haproxy.cfg")],
        cwd: REPO_ROOT,
        env: {
          ...withoutServerAddrs(process.env),
          ...haproxyEnv(ports, { user: secrets.STATS_USER, password: secrets.STATS_PASSWORD }, servers),
          ...(ctx.requestIdKeyMap ? { REQUEST_ID_KEY_MAP: ctx.requestIdKeyMap } : {}),
        },
      }),
      // Up when the public port answers /healthz through a web server. The stats
      // port only by TCP: its page wants the login, which a probe's URL would print.
      probes: [{ tcp: { host: HOST, port: ports.stats } }, { http: `${url(ports.store)}/healthz` }],
      stopTimeoutMs: 5000,
      pipeOutput: true,
    },
  ];
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
    STORE_BIND: `${HOST}:${ports.store}`,
    STATS_BIND: `${HOST}:${ports.stats}`,
    // One per server this stack runs: haproxy.cfg has a server line for each one set.
    ...serverAddrs(ports, servers),
  };
}

/** A tier's n-th server's port (web-3's is ports.web3). */
export function serverPort(ports: Ports, tier: ServerTier, n: number): number {
  const port = ports[serverPortKey(tier, n)];
  if (port === undefined) {
    throw new Error(`no port for ${tier}-${n} (resolvePorts with the stack's servers gives one)`);
  }
  return port;
}

/** WEB1_ADDR … WEB<n>_ADDR and ADMIN1_ADDR …: the server lines haproxy.cfg enables. */
function serverAddrs(ports: Ports, servers: Servers): Record<string, string> {
  return Object.fromEntries(
    (["web", "admin"] as const).flatMap((tier) =>
      Array.from(
        { length: servers[tier] },
        (_, i) => [`${tier.toUpperCase()}${i + 1}_ADDR`, `${HOST}:${serverPort(ports, tier, i + 1)}`],
      )
    ),
  );
}

/** The environment without any WEB<n>_ADDR / ADMIN<n>_ADDR: one left in a shell would add a server to the proxy. */
const withoutServerAddrs = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => !/^(WEB|ADMIN)\d+_ADDR$/.test(k)));
