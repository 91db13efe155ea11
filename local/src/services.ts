// The service table: every process of the topology, what it runs, with which
// environment (docs/internals.md), how it is probed and in which order it starts.
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, type Ports, type Secrets } from "./config.ts";
import type { Probe } from "./health.ts";
import { mariadbdCommand, type DbBins, type DbLayout } from "./mariadb.ts";
import type { Command } from "./processes.ts";

export const SERVICE_NAMES = ["db", "redis", "cache", "api", "admin-api", "web-1", "web-2", "admin-1", "admin-2", "proxy"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Other names a service is known by (the cache endpoint is the bridge locally, SRH in compose). */
export const ALIASES: Record<string, ServiceName> = { bridge: "cache", srh: "cache", mariadb: "db", mysql: "db", haproxy: "proxy" };

/** The app code bases; web-1/web-2 run the same code, as do admin-1/admin-2. */
export type AppName = "bridge" | "api" | "admin-api" | "web" | "admin";

/**
 * How apps are run. `bun` runs `bun <app>/src/main.ts`; `deno` runs
 * `deno run -A <app>/src/main.deno.ts`; `compiled` runs `dist/<app>` (from
 * `bun build --compile`). An app without the entry that runtime needs falls back to Bun.
 */
export type Runtime = "bun" | "deno" | "compiled";

export type Context = {
  ports: Ports;
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
export const denoCommand = (app: AppName) => [denoExecutable(), "run", "-A", path.join(app, "src/main.deno.ts")];

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
    if (!existsSync(exe)) throw new Error(`${service}: STACK_RUNTIME=compiled but ${path.relative(REPO_ROOT, exe)} does not exist (build it with bun build --compile)`);
    return [exe];
  }
  return bunEntry;
}

export function buildServices(ctx: Context): ServiceDef[] {
  const { ports, secrets } = ctx;
  const base = { ...process.env, ...ctx.appEnv };
  const app = (name: ServiceName, code: AppName, level: number, port: number, env: Record<string, string>): ServiceDef => ({
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
      command: () => ({ cmd: ctx.commands.db ?? mariadbdCommand(ctx.bins, ctx.db, ports.db), cwd: REPO_ROOT, env: { ...process.env } }),
      probes: [{ tcp: { host: HOST, port: ports.db } }],
      // InnoDB flushes on a clean shutdown; give it time rather than SIGKILL it.
      stopTimeoutMs: 30_000,
    },
    {
      name: "redis",
      level: 0,
      command: () => ({
        // The cache is disposable: no snapshots, no append-only file.
        cmd: ctx.commands.redis ?? [ctx.bins.redis, "--port", String(ports.redis), "--bind", HOST, "--save", "", "--appendonly", "no", "--daemonize", "no"],
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
    app("api", "api", 2, ports.api, { ...dbEnv("bazaar_api", secrets.API_DB_PASSWORD), API_TOKEN: secrets.API_TOKEN }),
    app("admin-api", "admin-api", 2, ports.adminApi, { ...dbEnv("bazaar_admin", secrets.ADMIN_DB_PASSWORD), ADMIN_API_TOKEN: secrets.ADMIN_API_TOKEN }),
    app("web-1", "web", 3, ports.web1, webEnv),
    app("web-2", "web", 3, ports.web2, webEnv),
    app("admin-1", "admin", 3, ports.admin1, adminEnv),
    app("admin-2", "admin", 3, ports.admin2, adminEnv),
    {
      name: "proxy",
      level: 4,
      command: () => ({
        cmd: ctx.commands.proxy ?? [ctx.bins.haproxy, "-db", "-f", path.join(REPO_ROOT, "proxy/haproxy.cfg")],
        cwd: REPO_ROOT,
        env: { ...process.env, ...haproxyEnv(ports) },
      }),
      // Up when the public port answers /healthz through a web server.
      probes: [{ http: `${url(ports.stats)}/` }, { http: `${url(ports.store)}/healthz` }],
      stopTimeoutMs: 5000,
      pipeOutput: true,
    },
  ];
}

/** The variables proxy/haproxy.cfg reads, pointing at this stack's 127.0.0.1 ports. */
export function haproxyEnv(ports: Ports): Record<string, string> {
  return {
    STORE_BIND: `${HOST}:${ports.store}`,
    STATS_BIND: `${HOST}:${ports.stats}`,
    WEB1_ADDR: `${HOST}:${ports.web1}`,
    WEB2_ADDR: `${HOST}:${ports.web2}`,
    ADMIN1_ADDR: `${HOST}:${ports.admin1}`,
    ADMIN2_ADDR: `${HOST}:${ports.admin2}`,
  };
}
