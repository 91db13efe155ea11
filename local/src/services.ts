// The service table: every process of the topology, what it needs running before it
// starts (the start order follows: ./order.ts), how it runs and is probed, and the
// launcher's steps around its start. Its ports are in ./ports.ts. web and admin are
// a row each, run as many times as asked for (web-1 … web-N); so are api and
// admin-api (api-1 … api-N, behind an internal HAProxy) when asked for more than one.
import { existsSync } from "node:fs";
import path from "node:path";
import { withRedisPassword } from "@bazaar/lib/secrets/secrets.ts";
import {
  type ApiReplicas,
  type ApiTier,
  DEFAULT_SERVERS,
  REPO_ROOT,
  type Secrets,
  type Servers,
  type ServerTier,
} from "./config.ts";
import {
  dataHaproxyEnv,
  decideStart,
  galeraAccount,
  galeraAccountSql,
  gcommOpen,
  markSafeToBootstrap,
  nodeLayout,
  nodeNames,
  nodePorts,
  NodeStarts,
  type Position,
  prepareNode,
} from "./galera.ts";
import type { Probe } from "./health.ts";
import type { Command } from "./managed-process.ts";
import {
  type DbBins,
  type DbLayout,
  ensureInstalled,
  mariadbdCommand,
  rootSql,
  seedAndConfigure,
} from "./mariadb.ts";
import { startGroups } from "./order.ts";
import {
  haproxyEnv,
  HOST,
  http,
  internalProxyEnv,
  type PortName,
  portOf,
  type Ports,
  replicaNames,
  replicaPort,
  serverNames,
} from "./ports.ts";
import { appCommand, type AppName, type Runtime } from "./runtime.ts";
import { redisAccount, redisCommand, writeRedisConf } from "./redis.ts";

/** The table's rows. */
type RowName =
  | "db-node"
  | "db-probe"
  | "db"
  | "redis"
  | "cache"
  | "api"
  | "admin-api"
  | "internal-proxy"
  | ServerTier
  | "proxy";
/** Rows run once per Galera node (DB_NODES > 1), none with one database. */
type NodeRow = "db-node" | "db-probe";
/**
 * A service of a stack: a row, one of a tier's servers (web-1, admin-3), or with
 * DB_NODES=3 a Galera node (db-1) and its probe (db-probe-1), or with API_SERVERS /
 * ADMIN_API_SERVERS > 1 an API's instance (api-2, admin-api-1) and the internal proxy.
 */
export type ServiceName =
  | Exclude<RowName, ServerTier | NodeRow>
  | `${ServerTier}-${number}`
  | `api-${number}`
  | `admin-api-${number}`
  | `db-${number}`
  | `db-probe-${number}`;

/**
 * What the service list depends on: the servers of each tier, the database's nodes,
 * which node bootstraps, and how many instances of each API (one each by default).
 */
export type Topology = { servers: Servers; dbNodes: number; bootstrap?: number; replicas?: ApiReplicas };

/** Per app ("web") or service ("web-2"): the command (argv) to run instead. */
export type Commands = Partial<Record<AppName | ServiceName, string[]>>;

/** What a service is run with: the stack's configuration, resolved. */
export type Context = {
  ports: Ports;
  /** How many web and admin servers (default two each); their ports are in `ports` (web1, web3, …). */
  servers?: Servers;
  /** How many database nodes: 1 (one MariaDB), or a Galera cluster behind a HAProxy of its own (./galera.ts). */
  dbNodes?: number;
  /** With nodes: the one that starts first and bootstraps the cluster (the others need it). */
  bootstrap?: number;
  /** How many instances of each API (one each by default); more than one: behind proxy/internal.cfg. */
  replicas?: ApiReplicas;
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
  beforeStart?: (log: (line: string) => void) => Promise<unknown> | unknown;
  /** Once healthy, before the services that need it start (the db's schema, seed and accounts). */
  afterHealthy?: (log: (line: string) => void) => Promise<unknown> | unknown;
};

type Row = {
  /** What must be healthy before it starts (a tier's name: all its servers), or per service. */
  needs?: readonly RowName[] | ((name: ServiceName, topology: Topology) => ServiceName[]);
  /** Other names it is known by (stack.start("bridge")). */
  aliases?: readonly string[];
  /** How it runs, as `name` (a tier's row: web-1, web-2, …, each on its own port). */
  run(ctx: Context, name: ServiceName): Run;
};

/** The table. */
const SERVICES: Record<RowName, Row> = {
  // DB_NODES > 1: each node a mariadbd with Galera; the first to start bootstraps.
  "db-node": {
    // One at a time, the bootstrapping node first: two joining at once, one waits for
    // the donor while Galera's short timeouts (./galera.ts) may drop it from the view.
    needs: (name, t) => {
      const order = joinOrder(t);
      const i = order.indexOf(nodeNumber(name));
      return i > 0 ? [`db-${order[i - 1]!}`] : [];
    },
    run: (ctx, name) => galeraNode(ctx, name),
  },
  // Beside each node, our probe: 200 only while it is Synced and Primary (HAProxy's check).
  "db-probe": {
    needs: (name) => [`db-${nodeNumber(name)}`],
    run: (ctx, name) => {
      const n = nodeNumber(name);
      const port = nodePorts(ctx.ports.db, n).probe;
      const account = galeraAccount(ctx.dataDir);
      return {
        command: () => ({
          cmd: ctx.commands[name] ?? [process.execPath, path.join(import.meta.dir, "galera-probe.ts")],
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            PROBE_PORT: String(port),
            DB_SOCKET: nodeLayout(ctx.dataDir, n).socket,
            DB_USER: account.user,
            DB_PASSWORD: account.password,
          },
        }),
        probes: [{ http: `${http(port)}/` }],
        stopTimeoutMs: 2000,
      };
    },
  },
  db: {
    aliases: ["mariadb", "mysql"],
    needs: (
      _,
      t,
    ) => (t.dbNodes > 1 ? nodeNames(t.dbNodes).map((n) => n.replace("db-", "db-probe-") as ServiceName) : []),
    run: (ctx) =>
      (ctx.dbNodes ?? 1) > 1 ? dataProxy(ctx) : ({
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
    run: (ctx) => {
      // Its password in a file of the launcher's (./redis.ts), rewritten at each start.
      const conf = path.join(ctx.dataDir, "run", "redis.conf");
      return {
        command: () => ({
          // Every client gives the password; started by root, it runs as the redis
          // account. The cache is disposable: no snapshots, no append-only file. Its
          // memory is bounded: past it, keys with a TTL go, least recently used first
          // (never the generation and floor keys, which have none: lib/src/data/catalog-cache.ts).
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
    needs: ["redis"],
    // The cache endpoint is the bridge locally, SRH in compose.
    aliases: ["bridge", "srh"],
    run: (ctx) => ({
      command: () => ({
        cmd: commandOf(ctx, "bridge", "cache"),
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
  // One row each, run as `api` on API_PORT, or as api-1 … api-N (./ports.ts replicaPort).
  api: {
    needs: ["db", "cache"],
    run: (ctx, name) =>
      app(ctx, name, "api", apiPort(ctx, "api", name), {
        ...dbEnv(ctx, "bazaar_api", ctx.secrets.API_DB_PASSWORD, name),
        API_TOKEN: ctx.secrets.API_TOKEN,
      }),
  },
  "admin-api": {
    needs: ["db", "cache"],
    run: (ctx, name) =>
      app(ctx, name, "admin-api", apiPort(ctx, "adminApi", name), {
        ...dbEnv(ctx, "bazaar_admin", ctx.secrets.ADMIN_DB_PASSWORD, name),
        ADMIN_API_TOKEN: ctx.secrets.ADMIN_API_TOKEN,
      }),
  },
  // With replicas of an API: HAProxy on the API's own port (127.0.0.1), in front of its
  // instances (proxy/internal.cfg); web and admin call the same address as before.
  "internal-proxy": {
    needs: ["api", "admin-api"],
    run: (ctx) => internalProxy(ctx),
  },
  web: {
    needs: ["api", "internal-proxy"],
    run: (ctx, name) =>
      app(ctx, name, "web", serverPort(ctx.ports, name), {
        API_URL: http(ctx.ports.api),
        API_TOKEN: ctx.secrets.API_TOKEN,
        REQUEST_ID_KEY: ctx.secrets.REQUEST_ID_KEY,
        SHUTDOWN_DRAIN_MS: String(ctx.drainMs),
      }),
  },
  admin: {
    needs: ["admin-api", "internal-proxy"],
    run: (ctx, name) =>
      app(ctx, name, "admin", serverPort(ctx.ports, name), {
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
    needs: ["web", "admin"],
    aliases: ["haproxy"],
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

/** The order the nodes start in: the bootstrapping one, then the others by number. */
const joinOrder = ({ dbNodes, bootstrap = 1 }: Topology) => [
  bootstrap,
  ...Array.from({ length: dbNodes }, (_, i) => i + 1).filter((n) => n !== bootstrap),
];

/** Per stack (its context): the nodes' starts, one deciding at a time (./galera.ts). */
const nodeStarts = new WeakMap<Context, NodeStarts>();
const nodeStartsOf = (ctx: Context) => {
  if (!nodeStarts.has(ctx)) nodeStarts.set(ctx, new NodeStarts());
  return nodeStarts.get(ctx)!;
};

/** A node's number: db-2 and db-probe-2 are node 2's. */
const nodeNumber = (name: ServiceName) => Number(name.slice(name.lastIndexOf("-") + 1));

/**
 * Galera node `name`: its configuration written before each start, then how it starts
 * decided (./galera.ts, decideStart: it bootstraps only when no node is in a Primary
 * Component and it is the most advanced, else joins from its recovered position — IST,
 * only what it missed). The bootstrapping node loads the schema and accounts (once:
 * seedAndConfigure skips a seeded cluster), which replicate to the others.
 */
function galeraNode(ctx: Context, name: ServiceName): Run {
  const n = nodeNumber(name);
  const nodes = ctx.dbNodes ?? 1;
  const db = nodeLayout(ctx.dataDir, n);
  let bootstrapping = false;
  let position: Position | undefined;
  return {
    command: () => ({
      cmd: ctx.commands[name] ?? [
        ctx.bins.mariadbd,
        `--defaults-file=${db.conf}`,
        ...(bootstrapping ? ["--wsrep-new-cluster"] : []),
        ...(position && position.seqno >= 0
          ? [`--wsrep-start-position=${position.uuid}:${position.seqno}`]
          : []),
      ],
      cwd: REPO_ROOT,
      env: { ...process.env },
    }),
    probes: [{ tcp: { host: HOST, port: nodePorts(ctx.ports.db, n).sql } }],
    stopTimeoutMs: 30_000,
    // A first start loads db/init.sql; a joiner may first copy the whole database (SST).
    startTimeoutMs: (t) => Math.max(t, 90_000),
    beforeStart: async (log) => {
      const starts = nodeStartsOf(ctx);
      const release = await starts.take();
      try {
        await prepareNode(ctx.bins, ctx.dataDir, ctx.ports.db, nodes, n, log);
        const decided = await decideStart(ctx.bins, ctx.dataDir, ctx.ports.db, nodes, n, starts);
        bootstrapping = decided.bootstrap;
        // Its recovered position also when it bootstraps: after a crash its grastate.dat says
        // seqno -1, and without the position the cluster would start a new history (a new
        // UUID), so every joiner would need a full copy instead of what it missed.
        position = decided.position;
        if (bootstrapping) markSafeToBootstrap(ctx.dataDir, n);
        log(
          bootstrapping
            ? `no node is in a Primary Component and this one is the most advanced (positions ${
              decided.positions.map((p) => p?.seqno ?? "none").join(", ")
            }): bootstraps the cluster`
            : `joins the cluster${position ? ` from ${position.uuid}:${position.seqno}` : ""}`,
        );
      } finally {
        // The next node decides once this one's process is seen (or certainly is not).
        release(gcommOpen(ctx.ports.db, n, 15_000));
      }
    },
    afterHealthy: async (log) => {
      if (!bootstrapping) return;
      await rootSql(ctx.bins, db, galeraAccountSql(galeraAccount(ctx.dataDir)));
      await seedAndConfigure(
        ctx.bins,
        db,
        { api: ctx.secrets.API_DB_PASSWORD, admin: ctx.secrets.ADMIN_DB_PASSWORD },
        log,
      );
    },
  };
}

/**
 * DB_NODES > 1: DB_PORT is a HAProxy of its own in TCP mode on proxy/galera.cfg (the
 * file compose.ha.yaml runs) with local addresses (./galera.ts, dataHaproxyEnv), on
 * 127.0.0.1, one writer at a time; the apps connect as before.
 */
function dataProxy(ctx: Context): Run {
  return {
    command: () => ({
      cmd: ctx.commands.db ?? [ctx.bins.haproxy, "-db", "-f", path.join(REPO_ROOT, "proxy/galera.cfg")],
      cwd: REPO_ROOT,
      env: { ...process.env, ...dataHaproxyEnv(ctx.ports.db, ctx.dbNodes ?? 1) },
    }),
    probes: [{ tcp: { host: HOST, port: ctx.ports.db } }],
    stopTimeoutMs: 5000,
    clearsAppend: true,
  };
}

const appBase = (ctx: Context) => ({ ...process.env, ...ctx.appEnv });

/** The argv of one service running `code`: the caller's command for it, else the runtime's. */
const commandOf = (ctx: Context, code: AppName, name: ServiceName) =>
  ctx.commands[name] ?? ctx.commands[code] ?? appCommand(ctx.runtime, code, name);

/** An app on its port: probed at /healthz. */
const app = (
  ctx: Context,
  name: ServiceName,
  code: AppName,
  port: number,
  env: Record<string, string>,
): Run => ({
  command: () => ({
    cmd: commandOf(ctx, code, name),
    cwd: REPO_ROOT,
    env: { ...appBase(ctx), HOST, PORT: String(port), INSTANCE_NAME: name, ...env },
  }),
  probes: [{ http: `${http(port)}/healthz` }],
  // Web and admin drain first (drainMs), then finish what is in flight.
  stopTimeoutMs: ctx.drainMs + 8000,
});

/** The replicas of each API this context runs (one each unless asked). */
const replicasOf = (ctx: Pick<Context, "replicas">): ApiReplicas => ctx.replicas ?? { api: 1, adminApi: 1 };

/** An API's port: its own when it runs once, else instance n's (api-2: API_PORT + 20). */
const apiPort = (ctx: Context, tier: ApiTier, name: ServiceName) =>
  replicasOf(ctx)[tier] > 1 ? replicaPort(ctx.ports, tier, nodeNumber(name)) : ctx.ports[tier];

/**
 * The internal proxy (proxy/internal.cfg), with a frontend for each API that runs as
 * replicas; `show stat` on a unix socket in the run dir (tests watch the pool there).
 */
function internalProxy(ctx: Context): Run {
  const env = internalProxyEnv(ctx.ports, replicasOf(ctx));
  const binds = (["api", "adminApi"] as const).filter((t) => replicasOf(ctx)[t] > 1).map((t) => ctx.ports[t]);
  return {
    command: () => ({
      cmd: ctx.commands["internal-proxy"] ??
        [ctx.bins.haproxy, "-db", "-f", path.join(REPO_ROOT, "proxy/internal.cfg")],
      cwd: REPO_ROOT,
      env: {
        ...withoutServerAddrs(process.env),
        ...env,
        INTERNAL_STATS_SOCKET: internalStatsSocket(ctx.dataDir),
      },
    }),
    probes: binds.flatMap((port) => [{ tcp: { host: HOST, port } }, { http: `${http(port)}/healthz` }]),
    stopTimeoutMs: 5000,
    clearsAppend: true,
  };
}

/**
 * The internal proxy's stats socket: `show stat` lists each instance and its state.
 *
 * @example internalStatsSocket(".local") // ".local/run/internal-proxy.sock"
 */
export const internalStatsSocket = (dataDir: string) => path.join(dataDir, "run", "internal-proxy.sock");

/**
 * What api and admin-api need for the database and the cache. An instance among
 * replicas drains on SIGTERM, as web does: its /healthz fails while it still serves,
 * so the internal proxy moves away before it stops.
 */
const dbEnv = (ctx: Context, user: string, password: string, name: ServiceName) => ({
  DB_HOST: HOST,
  DB_PORT: String(ctx.ports.db),
  DB_NAME: "bazaar",
  DB_USER: user,
  DB_PASSWORD: password,
  UPSTASH_REDIS_REST_URL: http(ctx.ports.cache),
  UPSTASH_REDIS_REST_TOKEN: ctx.secrets.SRH_TOKEN,
  SHUTDOWN_DRAIN_MS: /-\d+$/.test(name) ? String(ctx.drainMs) : "0",
});

/** A server's port: web-3's is ports.web3. */
const serverPort = (ports: Ports, name: ServiceName) => portOf(ports, name.replace("-", "") as PortName);

/**
 * The environment without any server address or bind of the proxies (WEB<n>_ADDR,
 * API<n>_ADDR, API_BIND, …): one left in a shell would add a server or a frontend.
 */
const withoutServerAddrs = (env: Record<string, string | undefined>) =>
  Object.fromEntries(
    Object.entries(env).filter(([k]) =>
      !/^((WEB|ADMIN|API|ADMIN_API)\d+_ADDR|(ADMIN_)?API_BIND|ONLY_BOUND_FRONTENDS)$/.test(k)
    ),
  );

const TIERS: readonly string[] = ["web", "admin"] satisfies ServerTier[];
const API_ROWS: Record<string, ApiTier> = { api: "api", "admin-api": "adminApi" };
const NODE_ROWS: readonly string[] = ["db-node", "db-probe"] satisfies NodeRow[];

/** A service as the launcher runs it: its name, what it needs, and how it runs. */
export type ServiceDef = Run & { name: ServiceName; needs: readonly ServiceName[] };

/** The one database of the default stack (DB_NODES=1). */
const ONE_DB: Pick<Topology, "dbNodes"> = { dbNodes: 1 };

/** The services of a stack of this topology (a tier's row once per server), needs spelled out, in table order. */
function servicesOf(topology: Topology) {
  const { servers, dbNodes, replicas = { api: 1, adminApi: 1 } } = topology;
  const named = (row: RowName): ServiceName[] =>
    row in API_ROWS
      ? replicaNames(API_ROWS[row]!, replicas[API_ROWS[row]!]) as ServiceName[]
      : row === "internal-proxy"
      ? (replicas.api > 1 || replicas.adminApi > 1 ? ["internal-proxy"] : [])
      : TIERS.includes(row)
      ? serverNames(row as ServerTier, servers[row as ServerTier])
      : NODE_ROWS.includes(row)
      ? (dbNodes > 1
        ? nodeNames(dbNodes).map((n) => (row === "db-probe" ? n.replace("db", row) : n) as ServiceName)
        : [])
      : [row as ServiceName];
  return (Object.entries(SERVICES) as [RowName, Row][]).flatMap(([key, row]) =>
    named(key).map((name) => ({
      name,
      needs: typeof row.needs === "function" ? row.needs(name, topology) : (row.needs ?? []).flatMap(named),
      aliases: row.aliases ?? [],
      run: (ctx: Context) => row.run(ctx, name),
    }))
  );
}

/**
 * A stack's services in start order, with these many web and admin servers (and database nodes).
 *
 * @example serviceNames({ web: 1, admin: 1 }) // ["db", "redis", "cache", "api", "admin-api", "web-1", "admin-1", "proxy"]
 */
export const serviceNames = (
  servers: Servers = DEFAULT_SERVERS,
  dbNodes = 1,
  bootstrap?: number,
  replicas?: ApiReplicas,
): ServiceName[] =>
  startGroups(servicesOf({ servers, dbNodes, bootstrap, replicas })).flat() as ServiceName[];

/** The default stack's services (two web, two admin servers), in start order. */
export const SERVICE_NAMES: readonly ServiceName[] = serviceNames();

/** Other names a service is known by (the cache endpoint is the bridge locally, SRH in compose). */
export const ALIASES: Record<string, ServiceName> = Object.fromEntries(
  servicesOf({ servers: DEFAULT_SERVERS, ...ONE_DB }).flatMap((s) => s.aliases.map((a) => [a, s.name])),
);

/**
 * The services of a stack with this configuration, each with what it needs.
 *
 * @example buildServices(ctx).find((s) => s.name === "web-3")?.needs // ["api"]
 */
export function buildServices(ctx: Context): ServiceDef[] {
  return servicesOf({
    servers: ctx.servers ?? DEFAULT_SERVERS,
    dbNodes: ctx.dbNodes ?? 1,
    bootstrap: ctx.bootstrap,
    replicas: ctx.replicas,
  })
    .map((s) => ({
      name: s.name,
      needs: s.needs,
      ...s.run(ctx),
    }));
}
