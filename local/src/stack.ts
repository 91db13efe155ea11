// startStack(): the whole topology as local processes on 127.0.0.1 — MariaDB,
// redis-server, the cache bridge, api, admin-api, web-1/2, admin-1/2 (or as many as
// WEB_SERVERS / ADMIN_SERVERS ask for) and HAProxy — with the same db/init.sql and
// proxy/haproxy.cfg compose uses. API_SERVERS / ADMIN_API_SERVERS > 1 run the APIs as
// api-1 … behind an internal HAProxy (proxy/internal.cfg).
//
//   const requests = stopRequests();
//   const stack = await startStack({ quiet: true, ports: { store: 18080 }, signal: requests.signal });
//   await stack.kill("web-1", "SIGKILL"); await stack.start("web-1");
//   await stack.stop();
//
// Stopping is safe at any moment. The caller's AbortSignal (stopRequests(): SIGINT,
// SIGTERM) aborted while the stack is still starting stops what was started so far, in
// reverse order, says so ("stopped during start (SIGTERM): stopped api, …") and the
// start rejects with StartInterrupted. Once it is up, stopping it is the caller's
// (stack.stop(), or stopOnSignals). If the process dies anyway, an exit hook SIGKILLs
// every child.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import {
  ADMIN_PASSWORD_FILE,
  type ApiReplicas,
  type Env,
  REPO_ROOT,
  resolveApiReplicas,
  resolveDbNodes,
  resolveSecrets,
  resolveServers,
  type Secrets,
  type Servers,
} from "./config.ts";
import { GALERA_PROVIDER, nodeLayout, nodeNames, nodePorts, planCluster } from "./galera.ts";
import { portTaken } from "./health.ts";
import { consoleSink, filesAndNotices, fileSink, type LogSink } from "./log-sinks.ts";
import { type DbLayout, dbLayout, rootSql, socketUser } from "./mariadb.ts";
import { reapLeftovers } from "./pid-files.ts";
import { writeRequestIdKeyMap } from "./request-id-key.ts";
import {
  addressEnv,
  portEnv,
  portNames,
  type Ports,
  replicaPorts,
  resolvePorts,
  type StackUrls,
  stackUrls,
} from "./ports.ts";
import { Cancelled, Runner } from "./runner.ts";
import { resolveRuntime, type Runtime } from "./runtime.ts";
import { ALIASES, buildServices, type Commands, type ServiceName, serviceNames } from "./services.ts";
import { reasonOf, whenAborted } from "./stop.ts";
import { GALERA_PROGRAMS, type Program, PROGRAMS, requirePrograms } from "./system.ts";

export type StackOptions = {
  /** Where the database, logs and pid files live. Env STORE_DATA_DIR, default `.local/`. */
  dataDir?: string;
  /** Delete the stack's data first and start from the seed (CLI --fresh). */
  fresh?: boolean;
  /**
   * Where the services' output goes: "terminal" (every line, named: --verbose),
   * "files" (`<dataDir>/logs/<service>.log`, nothing on the terminal: tests), or
   * "files+notices" (the files, and on the terminal the launcher's own lines and what
   * services write to stderr, a few a service at a time: bun run local's default).
   * Default "terminal", or "files" with `quiet`.
   */
  logs?: "terminal" | "files" | "files+notices";
  /** Same as logs: "files" (tests). */
  quiet?: boolean;
  /** Or any sink of your own. */
  logSink?: LogSink;
  /** Ports; each defaults to its env variable (STORE_PORT, DB_PORT, …), then the design's port. */
  ports?: Partial<Ports>;
  /**
   * How many web and admin servers (env WEB_SERVERS, ADMIN_SERVERS): two each by
   * default, 1 to 9. web-3 … listen on WEB1_PORT + 2 … (8085 …), admin-3 … on
   * ADMIN1_PORT + 12 … (8093 …), unless WEB3_PORT, ADMIN3_PORT, … say otherwise.
   */
  servers?: Partial<Servers>;
  /**
   * How many database nodes (env DB_NODES): 1 by default; 3 runs a Galera cluster,
   * db-1 … db-3 on DB_PORT + 10, + 20, + 30, behind a HAProxy of its own on DB_PORT.
   */
  dbNodes?: number;
  /**
   * How many instances of each API (env API_SERVERS, ADMIN_API_SERVERS): one each by
   * default, two each with dbNodes 3; 1 to 4. More than one: api-n on API_PORT + 10n,
   * admin-api-n on ADMIN_API_PORT + 10n, behind an internal HAProxy on API_PORT and
   * ADMIN_API_PORT (proxy/internal.cfg).
   */
  replicas?: Partial<ApiReplicas>;
  /** Where variables are read from (default process.env). */
  env?: Env;
  /** Tokens and passwords; each defaults to its env variable, then a random one. */
  secrets?: Partial<Omit<Secrets, "adminPasswordGenerated" | "adminPasswordFile">>;
  /** How apps run (env STACK_RUNTIME): bun (default), deno or compiled (dist/<app>). */
  runtime?: Runtime;
  /** Per app ("web") or service ("web-2"): the argv to run instead, e.g. ["deno", "run", "-A", "web/src/main.deno.ts"]. */
  commands?: Commands;
  /** How long web/admin keep serving after SIGTERM (env SHUTDOWN_DRAIN_MS, default 1500). */
  drainMs?: number;
  /** Extra variables for every app (DB_POOL_SIZE, CACHE_TTL_SECONDS, API_TIMEOUT_MS, …). */
  appEnv?: Env;
  /** Install missing system packages with apt-get when root (default true). */
  install?: boolean;
  /** How long one service may take to become healthy (default 30 s; the first database start gets 90 s). */
  startTimeoutMs?: number;
  /**
   * The caller's stop request (stopRequests().signal). Aborted during the start: what
   * was started is stopped and the start rejects with StartInterrupted; afterwards the
   * caller stops the stack.
   */
  signal: AbortSignal;
};

export interface Stack {
  readonly ports: Ports;
  readonly urls: StackUrls;
  /** Every address, token and password, under the names tests/setup.ts exports. */
  readonly env: Record<string, string>;
  readonly secrets: Secrets;
  readonly dataDir: string;
  /** Where the per-service logs are when they go to files. */
  readonly logDir: string;
  readonly db: DbLayout;
  readonly services: readonly ServiceName[];
  /** How many web and admin servers it runs. */
  readonly servers: Servers;
  /** How many database nodes (1, or 3: db-1 … db-3, each with its db-probe-<n>). */
  readonly dbNodes: number;
  /** How many instances of each API (more than one: api-1 …, behind the internal proxy). */
  readonly replicas: ApiReplicas;
  /** Seconds each service took to become healthy on start-up. */
  readonly startTimes: Partial<Record<ServiceName, number>>;
  pid(name: string): number | undefined;
  running(name: string): boolean;
  /** The last lines a service wrote. */
  logs(name: string): string[];
  /**
   * Starts one service (if it is not running) and waits until it is healthy; with no
   * name, every service that is not running, in start order (e.g. after stop()).
   */
  start(name?: string): Promise<void>;
  /** Stops one service cleanly (it stays down until started again), or with no name the whole stack (reverse order). */
  stop(name?: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** Variables for a service's next start on top of its own (e.g. CACHE_ENABLED=false for api); undefined removes one. */
  setEnv(name: string, env: Env): void;
  /**
   * Sends a signal and returns at once (e.g. SIGKILL for failure tests). A service it
   * ends stays down until started again: only one that exits on its own is restarted.
   */
  kill(name: string, signal?: NodeJS.Signals): void;
  /** Waits for the current run of a service to end; how it ended (exit code, or the signal). */
  exited(name: string): Promise<{ code: number | null; signal: string | null }>;
  /** Waits until a running service passes its probes again. */
  waitHealthy(name: string, timeoutMs?: number): Promise<void>;
  /** SQL as the database superuser over the unix socket (tab-separated output). */
  sql(sql: string): Promise<string>;
}

/** A start that a stop request ended before the stack was up; what was running then is stopped. */
export class StartInterrupted extends Error {
  constructor(
    /** What asked: the signal's name (SIGINT, SIGTERM) or "stop requested". */
    readonly reason: string,
    /** The services that were stopped, in the order they were stopped. */
    readonly stopped: readonly ServiceName[],
  ) {
    super(
      `stopped during start (${reason}): ${
        stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running yet"
      }`,
    );
  }
}

const nameIn = (names: readonly ServiceName[]) => (name: string): ServiceName => {
  const n = (ALIASES[name] ?? name) as ServiceName;
  if (!names.includes(n)) throw new Error(`no service "${name}" (services: ${names.join(", ")})`);
  return n;
};

/** The stack's own files in the data dir: what --fresh deletes (nothing else there is touched). */
const OWN_ENTRIES = ["mysql", "galera", "logs", "run", "db-passwords.json", ADMIN_PASSWORD_FILE];

/**
 * Starts the whole stack and resolves once every service is healthy: configuration →
 * leftovers of an earlier launcher → log, programs, ports, secrets → the services, in
 * the order their needs give. A stop request on `options.signal` ends the start at its
 * next step (a running apt-get or mariadb-install-db is let finish, never killed) and
 * stops what it started.
 *
 * @example
 * const requests = stopRequests();
 * const stack = await startStack({ quiet: true, signal: requests.signal });
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { signal } = options;
  // Asked to stop before it began (e.g. between two tries): nothing is touched.
  if (signal.aborted) throw new StartInterrupted(reasonOf(signal), []);
  // Aborted by a stop request, or by the first service that failed to start.
  const cancel = new AbortController();
  let stopReason: string | undefined;
  let failure: unknown;
  let stopped: ServiceName[] = [];
  /** What the start is doing, for the line a stop request gets. */
  let phase = "preparing";
  // Lines from before the log sink exists (--fresh deletes the log dir) wait for it.
  const early: string[] = [];
  let sink: LogSink | undefined;
  const say = (line: string) => (sink ? sink.line("launcher", line) : void early.push(line));
  const checkpoint = () => {
    if (cancel.signal.aborted) throw new Cancelled();
  };
  const unlisten = whenAborted(signal, (reason) => {
    stopReason = reason;
    say(`${reason} during start (${phase}): stopping what was started…`);
    cancel.abort();
  });

  try {
    // 1. The configuration: a bad variable is refused before anything is touched.
    const config = resolveConfig(options);
    const { dataDir, logDir, servers, ports, dbNodes, replicas } = config;
    const names = serviceNames(servers, dbNodes, undefined, replicas);

    // 2. Leftovers: a launcher killed with SIGKILL leaves its children running; stop
    // them first. Then --fresh deletes the stack's data.
    await reapLeftovers(config.runDir, say);
    if (options.fresh) {
      say(`--fresh: deleted the stack's data in ${dataDir}`);
      for (const e of OWN_ENTRIES) rmSync(path.join(dataDir, e), { recursive: true, force: true });
    }
    // 3. What the start needs: its log, the programs, free ports, the secrets.
    mkdirSync(dataDir, { recursive: true });
    const logs = options.logs ?? (options.quiet ? "files" : "terminal");
    sink = options.logSink ??
      (logs === "files"
        ? fileSink(logDir)
        : logs === "files+notices"
        ? filesAndNotices(logDir, ["launcher", ...names])
        : consoleSink(["launcher", ...names]));
    early.splice(0).forEach(say);
    checkpoint();
    say(`starting in ${dataDir}`);

    phase = "looking for MariaDB, Redis and HAProxy";
    const programs: Record<string, Program> = dbNodes > 1 ? { ...PROGRAMS, ...GALERA_PROGRAMS } : PROGRAMS;
    const bins = (await requirePrograms(programs, { install: options.install, log: say })) as Record<
      keyof typeof PROGRAMS,
      string
    >;
    if (dbNodes > 1 && !(await Bun.file(GALERA_PROVIDER).exists())) {
      throw new Error(`DB_NODES=${dbNodes}: no ${GALERA_PROVIDER}: install the Debian package galera-4`);
    }
    checkpoint();
    phase = "checking the ports";
    await checkPortsFree(ports, servers, dbNodes, replicas);
    checkpoint();
    // After --fresh: the database passwords are kept in the data dir.
    const secrets = resolveSecrets(options.secrets, config.env, dataDir);
    // A cluster: which node bootstraps it (the others need that one).
    const bootstrap = dbNodes > 1 ? await planCluster(bins, dataDir, ports.db, dbNodes, say) : undefined;

    // 4. The services, each group once the one before is healthy.
    const runner = new Runner(
      buildServices({
        ports,
        servers,
        dbNodes,
        bootstrap,
        replicas,
        secrets,
        bins,
        db: config.db,
        dataDir,
        runtime: config.runtime,
        commands: options.commands ?? {},
        drainMs: config.drainMs,
        appEnv: options.appEnv ?? {},
        requestIdKeyMap: writeRequestIdKeyMap(config.runDir, secrets.REQUEST_ID_KEY),
      }),
      sink,
      config.runDir,
      {
        timeoutMs: config.timeoutMs,
        logFile: (
          name,
        ) => (logs !== "terminal" && !options.logSink ? path.join(logDir, `${name}.log`) : undefined),
      },
    );
    process.on("exit", runner.killNow);
    const t0 = performance.now();
    try {
      await runner.startAll({
        cancel: cancel.signal,
        onGroup: (group) => (phase = `starting ${group.join(", ")}`),
        onFailure: (err) => {
          if (cancel.signal.aborted) return;
          failure = err;
          cancel.abort();
        },
      });
    } catch (err) {
      if (stopReason === undefined) say(`start failed, stopping what was started`);
      stopped = runner.running();
      await runner.stopAll();
      process.off("exit", runner.killNow);
      throw err;
    }
    say(`stack up in ${Math.round(performance.now() - t0) / 1000} s`);

    // 5. The report: the stack's addresses, variables and controls.
    return stackOf(config, { secrets, sql: (text) => rootSql(bins, config.db, text) }, runner, sink);
  } catch (err) {
    const interrupted = stopReason !== undefined ? new StartInterrupted(stopReason, stopped) : undefined;
    if (interrupted) say(interrupted.message);
    await sink?.close();
    throw interrupted ?? failure ?? err;
  } finally {
    unlisten();
  }
}

/** Everything the options and the environment say, checked before anything is touched. */
function resolveConfig(options: StackOptions) {
  const env = options.env ?? process.env;
  const dataDir = path.resolve(REPO_ROOT, options.dataDir ?? env.STORE_DATA_DIR ?? ".local");
  const servers = resolveServers(options.servers, env);
  const dbNodes = resolveDbNodes(options.dbNodes, env);
  const replicas = resolveApiReplicas(options.replicas, env, dbNodes);
  return {
    env,
    dataDir,
    logDir: path.join(dataDir, "logs"),
    runDir: path.join(dataDir, "run"),
    // With nodes, the superuser's socket (stack.sql) is node 1's.
    db: dbNodes > 1 ? nodeLayout(dataDir, 1) : dbLayout(dataDir),
    servers,
    dbNodes,
    replicas,
    ports: resolvePorts(options.ports, env, servers),
    runtime: resolveRuntime(options.runtime, env),
    drainMs: options.drainMs ?? (env.SHUTDOWN_DRAIN_MS ? Number(env.SHUTDOWN_DRAIN_MS) : 1500),
    timeoutMs: options.startTimeoutMs ?? 30_000,
  };
}
type Config = ReturnType<typeof resolveConfig>;

/** Refuses to start when one of the stack's ports is taken, naming each with its variable. */
async function checkPortsFree(ports: Ports, servers: Servers, dbNodes: number, replicas: ApiReplicas) {
  const taken: string[] = [];
  const nodePortsOf = dbNodes > 1
    ? nodeNames(dbNodes).flatMap((node, i) =>
      Object.entries(nodePorts(ports.db, i + 1)).map(([kind, port]) => ({ port, said: `${node}'s ${kind}` }))
    )
    : [];
  await Promise.all([
    ...portNames(servers).map(async (name) => {
      if (await portTaken(ports[name]!)) taken.push(`${ports[name]} (${portEnv(name)})`);
    }),
    ...nodePortsOf.map(async ({ port, said }) => {
      if (await portTaken(port)) taken.push(`${port} (${said}, DB_PORT + 10n …)`);
    }),
    ...replicaPorts(ports, replicas).map(async ({ name, port }) => {
      if (await portTaken(port)) taken.push(`${port} (${name}, API_PORT / ADMIN_API_PORT + 10n)`);
    }),
  ]);
  if (taken.length) {
    throw new Error(
      `port(s) already in use: ${
        taken.sort().join(", ")
      } — is another stack running? Set the variables to other ports.`,
    );
  }
}

/** The started stack, as its callers see and control it. */
function stackOf(
  config: Config,
  { secrets, sql }: { secrets: Secrets; sql: (text: string) => Promise<string> },
  runner: Runner,
  sink: LogSink,
): Stack {
  const { ports, servers, dataDir, logDir, db, dbNodes, replicas } = config;
  const names = serviceNames(servers, dbNodes, undefined, replicas);
  const resolveName = nameIn(names);
  const say = (line: string) => sink.line("launcher", line);
  const env: Record<string, string> = {
    // STORE_URL, API_URL, …, WEB1_URL … WEB<n>_URL (one per server it runs), and every port's variable.
    ...addressEnv(ports, servers),
    STATS_USER: secrets.STATS_USER,
    STATS_PASSWORD: secrets.STATS_PASSWORD,
    WEB_SERVERS: String(servers.web),
    ADMIN_SERVERS: String(servers.admin),
    ...(dbNodes > 1 ? { DB_NODES: String(dbNodes) } : {}),
    // Only replicas are said: a "1" exported into a test's environment would override
    // the two a nested DB_NODES=3 stack defaults to.
    ...(replicas.api > 1 ? { API_SERVERS: String(replicas.api) } : {}),
    ...(replicas.adminApi > 1 ? { ADMIN_API_SERVERS: String(replicas.adminApi) } : {}),
    CACHE_TOKEN: secrets.SRH_TOKEN,
    UPSTASH_REDIS_REST_TOKEN: secrets.SRH_TOKEN,
    SRH_TOKEN: secrets.SRH_TOKEN,
    // REDIS_URL is Redis's address; every client must AUTH with this.
    REDIS_PASSWORD: secrets.REDIS_PASSWORD,
    API_TOKEN: secrets.API_TOKEN,
    ADMIN_API_TOKEN: secrets.ADMIN_API_TOKEN,
    SESSION_SECRET: secrets.SESSION_SECRET,
    ADMIN_USER: secrets.ADMIN_USER,
    ADMIN_PASSWORD: secrets.ADMIN_PASSWORD,
    DB_HOST: "127.0.0.1",
    DB_NAME: "bazaar",
    DB_SOCKET: db.socket,
    DB_ROOT_USER: socketUser(),
    API_DB_USER: "bazaar_api",
    API_DB_PASSWORD: secrets.API_DB_PASSWORD,
    ADMIN_DB_USER: "bazaar_admin",
    ADMIN_DB_PASSWORD: secrets.ADMIN_DB_PASSWORD,
    STORE_DATA_DIR: dataDir,
    STORE_LOG_DIR: logDir,
  };

  // The whole stack's stop once begun (until it is started again): a second stop()
  // (a signal's, beside the caller's) waits for the same one.
  let stopping: Promise<void> | undefined;
  const stack: Stack = {
    ports,
    urls: stackUrls(ports, servers),
    env,
    secrets,
    dataDir,
    logDir,
    db,
    services: names,
    servers,
    dbNodes,
    replicas,
    startTimes: runner.startTimes,
    pid: (name) => runner.proc(resolveName(name)).pid,
    running: (name) => runner.proc(resolveName(name)).running,
    logs: (name) => [...runner.proc(resolveName(name)).tail],
    async start(name) {
      if (name === undefined) {
        // After stop(): the stack is live again, so a later stop() must stop it, and
        // the exit hook must kill it.
        if (stopping) {
          await stopping;
          stopping = undefined;
          process.on("exit", runner.killNow);
        }
        await runner.startAll();
        say("stack started again");
        return;
      }
      const n = resolveName(name);
      if (runner.proc(n).running) return;
      await runner.start(n);
    },
    async stop(name) {
      if (name !== undefined) return runner.stop(resolveName(name));
      stopping ??= (async () => {
        say("stopping");
        await runner.stopAll();
        process.off("exit", runner.killNow);
        say("stopped");
        await sink.close();
      })();
      return stopping;
    },
    async restart(name) {
      await stack.stop(name);
      await stack.start(name);
    },
    setEnv: (name, env) => runner.setEnv(resolveName(name), env),
    kill: (name, signal) => runner.kill(resolveName(name), signal),
    async exited(name) {
      const p = runner.proc(resolveName(name));
      await p.exited;
      return p.lastExit ?? { code: null, signal: null };
    },
    waitHealthy: (name, timeoutMs) => runner.waitHealthy(resolveName(name), timeoutMs),
    sql,
  };
  return stack;
}
