// startStack(): the whole topology as local processes on 127.0.0.1 — MariaDB,
// redis-server, the cache bridge, api, admin-api, web-1/2, admin-1/2 (or as many as
// WEB_SERVERS / ADMIN_SERVERS ask for) and HAProxy — with the same db/init.sql and
// proxy/haproxy.cfg compose uses.
//
//   const stack = await startStack({ quiet: true, ports: { store: 18080 } });
//   await stack.kill("web-1", "SIGKILL"); await stack.start("web-1");
//   await stack.stop();
//
// Stopping is safe at any moment. A stop requested while the stack is still starting
// (SIGINT/SIGTERM, or the caller's AbortSignal) stops what was started so far, in
// reverse order, says so ("stopped during start (SIGTERM): stopped api, …") and the
// start rejects with StartInterrupted. Without a caller's signal this module answers
// SIGINT/SIGTERM itself for as long as the stack lives, and then ends the process as
// the signal would have (exit 128 + n: 130, 143) — so nothing is left behind.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import {
  PORT_ENV,
  portKeysInUse,
  type Ports,
  REPO_ROOT,
  resolvePorts,
  resolveSecrets,
  resolveServers,
  type Secrets,
  type Servers,
} from "./config.ts";
import { describe, NotReadyError, portTaken, waitFor } from "./health.ts";
import {
  type DbLayout,
  dbLayout,
  ensureInstalled,
  rootSql,
  seedAndConfigure,
  socketUser,
} from "./mariadb.ts";
import { consoleSink, fileSink, type LogSink, ManagedProcess, reapLeftovers } from "./processes.ts";
import {
  ALIASES,
  type AppName,
  buildServices,
  type Runtime,
  serverPort,
  type ServiceDef,
  type ServiceName,
  serviceNames,
} from "./services.ts";
import { PROGRAMS, requirePrograms } from "./system.ts";
import { writeRequestIdKeyMap } from "./request-id-key.ts";

export { type AppName, type Runtime, SERVICE_NAMES, type ServiceName } from "./services.ts";
export type { Ports, Secrets, Servers } from "./config.ts";

type Env = Record<string, string | undefined>;

export type StackOptions = {
  /** Where the database, logs and pid files live. Env STORE_DATA_DIR, default `.local/`. */
  dataDir?: string;
  /** Delete the stack's data first and start from the seed (CLI --fresh). */
  fresh?: boolean;
  /** Logs to `<dataDir>/logs/<service>.log` instead of the terminal (tests). */
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
  /** Where variables are read from (default process.env). */
  env?: Env;
  /** Tokens and passwords; each defaults to its env variable, then a random one. */
  secrets?: Partial<Omit<Secrets, "adminPasswordGenerated">>;
  /** How apps run (env STACK_RUNTIME): bun (default), deno or compiled (dist/<app>). */
  runtime?: Runtime;
  /** Per app ("web") or service ("web-2"): the argv to run instead, e.g. ["deno", "run", "-A", "web/src/main.deno.ts"]. */
  commands?: Partial<Record<AppName | ServiceName, string[]>>;
  /** How long web/admin keep serving after SIGTERM (env SHUTDOWN_DRAIN_MS, default 1500). */
  drainMs?: number;
  /** Extra variables for every app (DB_POOL_SIZE, CACHE_TTL_SECONDS, API_TIMEOUT_MS, …). */
  appEnv?: Env;
  /** Install missing system packages with apt-get when root (default true). */
  install?: boolean;
  /** How long one service may take to become healthy (default 30 s; the first database start gets 90 s). */
  startTimeoutMs?: number;
  /**
   * The caller's stop request. Aborted during the start: what was started is stopped
   * and the start rejects with StartInterrupted; afterwards the caller stops the stack.
   * Without one, SIGINT/SIGTERM stop the stack (starting or not) and end the process.
   */
  signal?: AbortSignal;
};

export type StackUrls = {
  store: string;
  stats: string;
  web1: string;
  web2: string;
  admin1: string;
  admin2: string;
  /** Every web server's address, web-1 first (as many as the stack runs). */
  web: string[];
  /** Every admin server's address, admin-1 first. */
  admin: string[];
  api: string;
  adminApi: string;
  cache: string;
  redis: string;
  db: string;
};

export interface Stack {
  readonly ports: Ports;
  readonly urls: StackUrls;
  /** Every address, token and password, under the names tests/setup.ts exports. */
  readonly env: Record<string, string>;
  readonly secrets: Secrets;
  readonly dataDir: string;
  /** Where the per-service logs are in quiet mode. */
  readonly logDir: string;
  readonly db: DbLayout;
  readonly services: readonly ServiceName[];
  /** How many web and admin servers it runs. */
  readonly servers: Servers;
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
  /** Stops one service cleanly, or with no name the whole stack (reverse order). */
  stop(name?: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** Variables for a service's next start on top of its own (e.g. CACHE_ENABLED=false for api); undefined removes one. */
  setEnv(name: string, env: Env): void;
  /** Sends a signal and returns at once (e.g. SIGKILL for failure tests). */
  kill(name: string, signal?: NodeJS.Signals): void;
  /** Waits for the current run of a service to end; how it ended (exit code, or the signal). */
  exited(name: string): Promise<{ code: number | null; signal: string | null }>;
  /** Waits until a running service passes its probes again. */
  waitHealthy(name: string, timeoutMs?: number): Promise<void>;
  /** SQL as the database superuser over the unix socket (tab-separated output). */
  sql(sql: string): Promise<string>;
}

export class StackStartError extends Error {
  constructor(
    readonly service: string,
    reason: string,
    lines: string[],
    logFile?: string,
  ) {
    const tail = lines.slice(-25).map((l) => `    ${l}`).join("\n");
    super(
      `${service} failed to start: ${reason}` +
        (tail ? `\n  last lines of ${service}:\n${tail}` : `\n  (${service} wrote nothing)`) +
        (logFile ? `\n  full log: ${logFile}` : ""),
    );
  }
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

/** A process ended by a signal exits 128 + its number (SIGINT 130, SIGTERM 143); 1 for anything else. */
export const signalExitCode = (reason: string | undefined) => {
  const n = reason ? (constants.signals as Record<string, number | undefined>)[reason] : undefined;
  return n ? 128 + n : 1;
};

export type StopRequests = {
  /** Aborted by the first SIGINT/SIGTERM; its reason is the signal's name. */
  readonly signal: AbortSignal;
  /** Stops listening (the signals' default action comes back). */
  dispose(): void;
};

/**
 * SIGINT and SIGTERM as a stop request: the first aborts `signal`. A second one more
 * than a second later forces: the process exits at once (128 + n), and the exit hook
 * SIGKILLs the stack's children. Ctrl-C under `bun run` arrives twice at once (from
 * the terminal and forwarded by bun run): that pair counts as one request.
 */
export function stopRequests(): StopRequests {
  const controller = new AbortController();
  let since = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (since) {
      if (Date.now() - since > 1000) {
        process.stderr.write(`\n${signal} again: forcing the stop\n`);
        process.exit(signalExitCode(signal));
      }
      return;
    }
    since = Date.now();
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Why a stop was asked for: the signal's name from stopRequests(), else "stop requested". */
const reasonOf = (
  signal: AbortSignal,
) => (typeof signal.reason === "string" ? signal.reason : "stop requested");

/** Runs `fn` once `signal` is aborted (at once if it already is); answers a function that stops listening. */
export function whenAborted(signal: AbortSignal, fn: (reason: string) => void) {
  if (signal.aborted) {
    fn(reasonOf(signal));
    return () => {};
  }
  const onAbort = () => fn(reasonOf(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

// Stacks started without a caller's signal. On SIGINT/SIGTERM every one of them is
// stopped (one still starting: what it started), then the process exits 128 + n.
const guarded = new Map<object, (reason: string) => Promise<unknown>>();
let guardRequests: StopRequests | undefined;

function guard(key: object, stop: (reason: string) => Promise<unknown>) {
  guarded.set(key, stop);
  if (guardRequests) return;
  const requests = (guardRequests = stopRequests());
  whenAborted(requests.signal, (reason) => {
    process.stderr.write(`\n${reason}: stopping the stack…\n`);
    void Promise.allSettled([...guarded.values()].map((s) => s(reason))).then(() =>
      process.exit(signalExitCode(reason))
    );
  });
}

function unguard(key: object) {
  guarded.delete(key);
  // Once a stop was asked for, the listeners stay: a later second signal still forces.
  if (guarded.size === 0 && guardRequests && !guardRequests.signal.aborted) {
    guardRequests.dispose();
    guardRequests = undefined;
  }
}

/** Thrown inside the start when a stop request or another service's failure ended it. */
class Cancelled extends Error {}

const nameIn = (names: readonly ServiceName[]) => (name: string): ServiceName => {
  const n = (ALIASES[name] ?? name) as ServiceName;
  if (!names.includes(n)) throw new Error(`no service "${name}" (services: ${names.join(", ")})`);
  return n;
};

/** The stack's own files in the data dir: what --fresh deletes (nothing else there is touched). */
const OWN_ENTRIES = ["mysql", "logs", "run", "db-passwords.json"];

/** What the start shares with whoever may stop it while it runs. */
type StartControl = {
  /** Aborted by a stop request, or by the first service that failed to start. */
  readonly cancel: AbortSignal;
  /** What the start is doing, for the message when a stop is asked for. */
  phase: string;
  /** Set by a stop request: the signal's name, or "stop requested". */
  stopReason: string | undefined;
  /** The first service's failure: what the start rejects with (unless a stop was asked for). */
  failure: unknown;
  /** The log from now on (the lines said before it are written first). */
  attach(sink: LogSink): void;
  say(line: string): void;
  /** Throws once the start is to end (its next step is not begun). */
  checkpoint(): void;
  /** A service's failure: the first one is what the start rejects with; the others stop waiting. */
  failed(err: unknown): void;
  /** The services stopped because the start ended, in the order they were stopped. */
  stopped: ServiceName[];
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // Asked to stop before it began (e.g. between two tries): nothing is touched.
  if (options.signal?.aborted) throw new StartInterrupted(reasonOf(options.signal), []);
  const cancel = new AbortController();
  // Messages from before the log sink exists (--fresh deletes the log dir).
  const early: string[] = [];
  let sink: LogSink | undefined;
  let live: Stack | undefined;
  const control: StartControl = {
    cancel: cancel.signal,
    phase: "preparing",
    stopReason: undefined,
    failure: undefined,
    attach(s) {
      sink = s;
      early.splice(0).forEach(control.say);
    },
    say: (line) => (sink ? sink.line("launcher", line) : void early.push(line)),
    checkpoint() {
      if (cancel.signal.aborted) throw new Cancelled();
    },
    failed(err) {
      if (cancel.signal.aborted) return;
      control.failure = err;
      cancel.abort();
    },
    stopped: [],
  };
  // A stop request while starting: the start ends at its next step (a running apt-get
  // or mariadb-install-db is let finish, never killed), and what it started is stopped.
  const requestStop = (reason: string) => {
    if (control.stopReason !== undefined || live) return;
    control.stopReason = reason;
    control.say(`${reason} during start (${control.phase}): stopping what was started…`);
    cancel.abort();
  };
  const key = {};
  const over = Promise.withResolvers<void>();
  const guardHooks = {
    // A stack stopped with stop() needs no guard; started again, it does.
    release: () => !options.signal && unguard(key),
    renew: () => !options.signal && guard(key, () => live!.stop()),
  };
  const unlisten = options.signal
    ? whenAborted(options.signal, requestStop)
    : (guard(key, (reason) => (live ? live.stop() : (requestStop(reason), over.promise))), () => {});

  try {
    live = await launch(options, control, guardHooks);
    return live;
  } catch (err) {
    const interrupted = control.stopReason !== undefined
      ? new StartInterrupted(control.stopReason, control.stopped)
      : undefined;
    if (interrupted) control.say(interrupted.message);
    await sink?.close();
    guardHooks.release();
    throw interrupted ?? control.failure ?? err;
  } finally {
    unlisten();
    over.resolve();
  }
}

/** The start itself; `guardHooks` follow the stack's stop() and start() (see guard()). */
async function launch(
  options: StackOptions,
  control: StartControl,
  guardHooks: { release(): void; renew(): void },
): Promise<Stack> {
  const { say, checkpoint } = control;
  const env = options.env ?? process.env;
  const dataDir = path.resolve(REPO_ROOT, options.dataDir ?? env.STORE_DATA_DIR ?? ".local");
  const logDir = path.join(dataDir, "logs");
  const runDir = path.join(dataDir, "run");
  const servers = resolveServers(options.servers, env);
  const ports = resolvePorts(options.ports, env, servers);
  const names = serviceNames(servers);
  const resolveName = nameIn(names);
  // A launcher killed with SIGKILL leaves its children running: stop them first.
  await reapLeftovers(runDir, say);
  if (options.fresh) {
    say(`--fresh: deleted the stack's data in ${dataDir}`);
    for (const e of OWN_ENTRIES) rmSync(path.join(dataDir, e), { recursive: true, force: true });
  }
  mkdirSync(dataDir, { recursive: true });
  const sink = options.logSink ?? (options.quiet ? fileSink(logDir) : consoleSink(["launcher", ...names]));
  control.attach(sink);
  checkpoint();
  say(`starting in ${dataDir}`);

  control.phase = "looking for MariaDB, Redis and HAProxy";
  const bins = await requirePrograms(PROGRAMS, { install: options.install, log: say });
  checkpoint();

  control.phase = "checking the ports";
  const taken: string[] = [];
  await Promise.all(
    portKeysInUse(ports, servers).map(async (k) => {
      if (await portTaken(ports[k]!)) taken.push(`${ports[k]} (${PORT_ENV[k]})`);
    }),
  );
  if (taken.length) {
    throw new Error(
      `port(s) already in use: ${
        taken.sort().join(", ")
      } — is another stack running? Set the variables to other ports.`,
    );
  }
  checkpoint();

  const secrets = resolveSecrets(options.secrets, env, dataDir);
  const db = dbLayout(dataDir);
  const runtime = (options.runtime ?? (env.STACK_RUNTIME as Runtime | undefined) ?? "bun") as Runtime;
  if (!["bun", "deno", "compiled"].includes(runtime)) {
    throw new Error(`STACK_RUNTIME must be bun, deno or compiled, not ${runtime}`);
  }
  const drainMs = options.drainMs ?? (env.SHUTDOWN_DRAIN_MS ? Number(env.SHUTDOWN_DRAIN_MS) : 1500);

  const defs = buildServices({
    ports,
    servers,
    secrets,
    bins,
    db,
    runtime,
    commands: options.commands ?? {},
    drainMs,
    appEnv: options.appEnv ?? {},
    requestIdKeyMap: writeRequestIdKeyMap(runDir, secrets.REQUEST_ID_KEY),
  });
  const byName = new Map(defs.map((d) => [d.name, d]));
  const overrides = new Map<ServiceName, Env>();
  const withOverrides = (d: ServiceDef) => () => {
    const command = d.command();
    const env = { ...command.env, ...overrides.get(d.name) };
    return { ...command, env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  };
  const procs = new Map(
    defs.map((
      d,
    ) => [d.name, new ManagedProcess(d.name, withOverrides(d), sink, runDir, { pipeOutput: d.pipeOutput })]),
  );
  const timeout = options.startTimeoutMs ?? 30_000;
  const startTimes: Partial<Record<ServiceName, number>> = {};

  const killAll = () => procs.forEach((p) => p.killNow());
  process.on("exit", killAll);

  const logFile = (
    name: string,
  ) => (options.quiet && !options.logSink ? path.join(logDir, `${name}.log`) : undefined);

  /**
   * Starts one service and waits for its probes; the database also gets its accounts set.
   * With `cancel` (the first start), an aborted start ends at the next step.
   */
  const bring = async (def: ServiceDef, firstDbStart = false, cancel?: AbortSignal) => {
    const p = procs.get(def.name)!;
    const t0 = performance.now();
    const check = () => {
      if (cancel?.aborted) throw new Cancelled();
    };
    if (def.name === "db") await ensureInstalled(bins, db, (l) => p.log(`[launcher] ${l}`));
    check();
    try {
      p.start();
    } catch (err) {
      throw new StackStartError(def.name, (err as Error).message, p.tail, logFile(def.name));
    }
    p.log(`[launcher] started, pid ${p.pid}`);
    const gone =
      () => (cancel?.aborted
        ? "the start was cancelled"
        : p.running
        ? undefined
        : `it exited (${p.tail.at(-1) ?? "no output"})`);
    try {
      for (const probe of def.probes) {
        await waitFor(probe, {
          timeoutMs: firstDbStart && def.name === "db" ? Math.max(timeout, 90_000) : timeout,
          gone,
        });
      }
      check();
      if (def.name === "db") {
        await seedAndConfigure(
          bins,
          db,
          { api: secrets.API_DB_PASSWORD, admin: secrets.ADMIN_DB_PASSWORD },
          (l) => p.log(`[launcher] ${l}`),
        );
      }
    } catch (err) {
      check();
      const reason = err instanceof NotReadyError ? err.message : `${(err as Error).message}`;
      throw new StackStartError(def.name, reason, p.tail, logFile(def.name));
    }
    startTimes[def.name] = Math.round(performance.now() - t0) / 1000;
    p.log(`[launcher] healthy after ${startTimes[def.name]} s (${def.probes.map(describe).join(", ")})`);
  };

  const levelsUp = [...new Set(defs.map((d) => d.level))].sort((a, b) => a - b);
  const levelsDown = [...levelsUp].reverse();
  const stopAll = async () => {
    for (const level of levelsDown) {
      await Promise.all(
        defs.filter((d) => d.level === level).map((d) => procs.get(d.name)!.stop(d.stopTimeoutMs)),
      );
    }
  };

  const t0 = performance.now();
  try {
    const firstDbStart = !existsSync(db.seeded);
    for (const level of levelsUp) {
      const group = defs.filter((d) => d.level === level);
      control.phase = `starting ${group.map((d) => d.name).join(", ")}`;
      // Every service of the level has settled (started, failed or given up) before
      // the next step: none is left starting behind the stop below.
      const results = await Promise.allSettled(
        group.map((d) =>
          bring(d, firstDbStart, control.cancel).catch((err) => {
            if (!(err instanceof Cancelled)) control.failed(err);
            throw err;
          })
        ),
      );
      const failure = results.find((r) => r.status === "rejected");
      if (failure) throw control.failure ?? failure.reason;
      checkpoint();
    }
  } catch (err) {
    if (control.stopReason === undefined) say(`start failed, stopping what was started`);
    control.stopped = levelsDown.flatMap((l) =>
      defs.filter((d) => d.level === l && procs.get(d.name)!.running).map((d) => d.name)
    );
    await stopAll();
    process.off("exit", killAll);
    throw err;
  }
  say(`stack up in ${Math.round(performance.now() - t0) / 1000} s`);

  const http = (port: number) => `http://127.0.0.1:${port}`;
  const urls: StackUrls = {
    store: http(ports.store),
    stats: http(ports.stats),
    web1: http(ports.web1),
    web2: http(ports.web2),
    admin1: http(ports.admin1),
    admin2: http(ports.admin2),
    web: Array.from({ length: servers.web }, (_, i) => http(serverPort(ports, "web", i + 1))),
    admin: Array.from({ length: servers.admin }, (_, i) => http(serverPort(ports, "admin", i + 1))),
    api: http(ports.api),
    adminApi: http(ports.adminApi),
    cache: http(ports.cache),
    redis: `redis://127.0.0.1:${ports.redis}`,
    db: `mysql://127.0.0.1:${ports.db}/bazaar`,
  };
  const stackEnv: Record<string, string> = {
    STORE_URL: urls.store,
    STATS_URL: urls.stats,
    STATS_USER: secrets.STATS_USER,
    STATS_PASSWORD: secrets.STATS_PASSWORD,
    // WEB1_URL … WEB<n>_URL, ADMIN1_URL …: one per server the stack runs.
    ...Object.fromEntries(urls.web.map((u, i) => [`WEB${i + 1}_URL`, u])),
    ...Object.fromEntries(urls.admin.map((u, i) => [`ADMIN${i + 1}_URL`, u])),
    WEB_SERVERS: String(servers.web),
    ADMIN_SERVERS: String(servers.admin),
    API_URL: urls.api,
    ADMIN_API_URL: urls.adminApi,
    CACHE_URL: urls.cache,
    CACHE_TOKEN: secrets.SRH_TOKEN,
    UPSTASH_REDIS_REST_URL: urls.cache,
    UPSTASH_REDIS_REST_TOKEN: secrets.SRH_TOKEN,
    SRH_TOKEN: secrets.SRH_TOKEN,
    REDIS_URL: urls.redis,
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
    ...Object.fromEntries(portKeysInUse(ports, servers).map((k) => [PORT_ENV[k], String(ports[k])])),
  };

  // The whole stack's stop once begun (until it is started again): a second stop()
  // (the guard's, beside the caller's) waits for the same one.
  let stopping: Promise<void> | undefined;
  const stack: Stack = {
    ports,
    urls,
    env: stackEnv,
    secrets,
    dataDir,
    logDir,
    db,
    services: names,
    servers,
    startTimes,
    pid: (name) => procs.get(resolveName(name))!.pid,
    running: (name) => procs.get(resolveName(name))!.running,
    logs: (name) => [...procs.get(resolveName(name))!.tail],
    async start(name) {
      if (name === undefined) {
        // After stop(): the stack is live again, so a later stop() must stop it.
        if (stopping) {
          await stopping;
          stopping = undefined;
          process.on("exit", killAll);
          guardHooks.renew();
        }
        for (const level of levelsUp) {
          await Promise.all(
            defs.filter((d) => d.level === level && !procs.get(d.name)!.running).map((d) => bring(d)),
          );
        }
        say("stack started again");
        return;
      }
      const n = resolveName(name);
      if (procs.get(n)!.running) return;
      await bring(byName.get(n)!);
    },
    async stop(name) {
      if (name !== undefined) {
        const n = resolveName(name);
        await procs.get(n)!.stop(byName.get(n)!.stopTimeoutMs);
        return;
      }
      stopping ??= (async () => {
        say("stopping");
        await stopAll();
        process.off("exit", killAll);
        say("stopped");
        await sink.close();
        guardHooks.release();
      })();
      return stopping;
    },
    async restart(name) {
      await stack.stop(name);
      await stack.start(name);
    },
    setEnv(name, env) {
      const n = resolveName(name);
      overrides.set(n, { ...overrides.get(n), ...env });
    },
    kill(name, signal = "SIGTERM") {
      procs.get(resolveName(name))!.kill(signal);
    },
    async exited(name) {
      const p = procs.get(resolveName(name))!;
      await p.exited;
      return p.lastExit ?? { code: null, signal: null };
    },
    async waitHealthy(name, timeoutMs = timeout) {
      const n = resolveName(name);
      const p = procs.get(n)!;
      for (const probe of byName.get(n)!.probes) {
        await waitFor(probe, { timeoutMs, gone: () => (p.running ? undefined : `${n} is not running`) });
      }
    },
    sql: (text) => rootSql(bins, db, text),
  };
  return stack;
}

/**
 * Stops a started stack on the first stop request and exits with `code`; a later
 * second signal forces (see stopRequests). For a stack started with
 * `signal: requests.signal`, so that one listener covers the start and the run.
 */
export function stopOnSignals(stack: Stack, code = 0, requests: StopRequests = stopRequests()) {
  whenAborted(requests.signal, (reason) => {
    process.stderr.write(`\n${reason}: stopping the stack…\n`);
    stack.stop().then(
      () => process.exit(code),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
