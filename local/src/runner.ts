// The services of a stack as processes: one started with the steps its row asks for
// (services.ts) and its probes, all of them group by group in the order their needs
// give (order.ts), and stopped in reverse;
// one that exits on its own is started again, as compose's `restart: unless-stopped`.
import type { Env } from "./config.ts";
import { describe, NotReadyError, waitFor } from "./health.ts";
import type { LogSink } from "./log-sinks.ts";
import { ManagedProcess } from "./managed-process.ts";
import { startGroups } from "./order.ts";
import type { ServiceDef, ServiceName } from "./services.ts";

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

/** Thrown inside the start when a stop request or another service's failure ended it. */
export class Cancelled extends Error {}

/**
 * Docker's restart delay, which compose's `restart: unless-stopped` uses: 100 ms,
 * doubled after each restart up to a minute, back to 100 ms once a run lasted 10 s.
 */
export const RESTART_BACKOFF = { firstMs: 100, maxMs: 60_000, resetAfterMs: 10_000 };

/** Signals that pause or resume a process rather than end it. */
const PAUSES: ReadonlySet<string> = new Set(["SIGSTOP", "SIGCONT", "SIGTSTP"]);

/** A restart waiting for its delay, or under way. */
type Restart = { timer?: ReturnType<typeof setTimeout>; abort: AbortController; attempt?: Promise<void> };

export class Runner {
  readonly procs: Map<ServiceName, ManagedProcess>;
  /** Seconds each service took to become healthy on its last start. */
  readonly startTimes: Partial<Record<ServiceName, number>> = {};
  private readonly byName: Map<ServiceName, ServiceDef>;
  /** Variables for a service's next start on top of its own (stack.setEnv). */
  private readonly overrides = new Map<ServiceName, Env>();
  /** The start order: each group once the one before is healthy (a stop goes the other way). */
  private readonly groups: ServiceName[][];
  /**
   * The services kept running: each one once started, until stop() or kill() ends it.
   * One of them that exits on its own is restarted (restart: unless-stopped).
   */
  private readonly kept = new Set<ServiceName>();
  private readonly restarts = new Map<ServiceName, Restart>();
  /** Per service: when its current run began, and the delay before its last restart. */
  private readonly runs = new Map<ServiceName, { began: number; delayMs: number; restarts: number }>();

  constructor(
    readonly defs: readonly ServiceDef[],
    sink: LogSink,
    runDir: string,
    private readonly options: { timeoutMs: number; logFile: (name: string) => string | undefined },
  ) {
    this.byName = new Map(defs.map((d) => [d.name, d]));
    this.groups = startGroups(defs) as ServiceName[][];
    this.procs = new Map(
      defs.map((
        d,
      ) => [
        d.name,
        new ManagedProcess(d.name, this.commandOf(d), sink, runDir, {
          clearsAppend: d.clearsAppend,
          onUnexpectedExit: () => this.exitedOnItsOwn(d.name),
        }),
      ]),
    );
  }

  /** The service's command with its overrides (an undefined one removes a variable). */
  private commandOf(def: ServiceDef) {
    return () => {
      const command = def.command();
      const env = { ...command.env, ...this.overrides.get(def.name) };
      return { ...command, env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
    };
  }

  def(name: ServiceName): ServiceDef {
    return this.byName.get(name)!;
  }

  proc(name: ServiceName): ManagedProcess {
    return this.procs.get(name)!;
  }

  setEnv(name: ServiceName, env: Env) {
    this.overrides.set(name, { ...this.overrides.get(name), ...env });
  }

  /**
   * Starts one service and waits until it is healthy: its row's step before the start
   * (the db's system tables), the process, its probes, the step once healthy (the db's
   * schema and accounts). With `cancel` aborted it ends at the next step. From then on
   * it is kept running (a restart of its own that was pending is called off first).
   */
  async start(name: ServiceName, cancel?: AbortSignal) {
    // Until it is up, a failure is the caller's to hear of, not a restart's to retry.
    this.kept.delete(name);
    await this.callOffRestart(name);
    await this.startOnce(name, cancel);
    this.kept.add(name);
  }

  private async startOnce(name: ServiceName, cancel?: AbortSignal) {
    const def = this.def(name);
    const p = this.proc(name);
    const log = (line: string) => p.log(`[launcher] ${line}`);
    const fail = (reason: string) => new StackStartError(name, reason, p.tail, this.options.logFile(name));
    const check = () => {
      if (cancel?.aborted) throw new Cancelled();
    };
    const t0 = performance.now();
    const timeoutMs = def.startTimeoutMs?.(this.options.timeoutMs) ?? this.options.timeoutMs;
    await def.beforeStart?.(log);
    check();
    try {
      p.start();
    } catch (err) {
      throw fail((err as Error).message);
    }
    this.runs.set(name, { ...this.runs.get(name) ?? { delayMs: 0, restarts: 0 }, began: performance.now() });
    log(`started, pid ${p.pid}`);
    const gone = () =>
      cancel?.aborted
        ? "the start was cancelled"
        : p.running
        ? undefined
        : `it exited (${p.tail.at(-1) ?? "no output"})`;
    try {
      for (const probe of def.probes) await waitFor(probe, { timeoutMs, gone });
      check();
      await def.afterHealthy?.(log);
    } catch (err) {
      check();
      // An exit: its last words first (its stderr may still be on its way through a pipe).
      if (!p.running) await p.exited;
      throw fail(err instanceof NotReadyError ? err.message : `${(err as Error).message}`);
    }
    this.startTimes[name] = Math.round(performance.now() - t0) / 1000;
    log(`healthy after ${this.startTimes[name]} s (${def.probes.map(describe).join(", ")})`);
  }

  /**
   * Starts every service that is not running, group by group: each group together,
   * once the one before is healthy. Every service of a group has settled (started,
   * failed or given up) before the next step, so none is left starting behind a stop.
   * Rejects with the first failure, or Cancelled once `cancel` is aborted (a stop
   * request, another service's failure). `onGroup` hears each group as it begins,
   * `onFailure` each service that failed (not one cancelled).
   */
  async startAll({ cancel, onGroup, onFailure }: {
    cancel?: AbortSignal;
    onGroup?: (names: ServiceName[]) => void;
    onFailure?: (err: unknown) => void;
  } = {}) {
    for (const all of this.groups) {
      const group = all.filter((name) => !this.proc(name).running);
      if (group.length === 0) continue;
      onGroup?.(group);
      let first: unknown;
      const results = await Promise.allSettled(
        group.map((name) =>
          this.start(name, cancel).catch((err) => {
            if (!(err instanceof Cancelled)) {
              first ??= err;
              onFailure?.(err);
            }
            throw err;
          })
        ),
      );
      const failure = results.find((r) => r.status === "rejected");
      if (failure) throw first ?? failure.reason;
      if (cancel?.aborted) throw new Cancelled();
    }
  }

  /** Stops one service cleanly: SIGTERM, then SIGKILL after its grace. It stays down until started again. */
  async stop(name: ServiceName) {
    this.kept.delete(name);
    await this.callOffRestart(name);
    return this.proc(name).stop(this.def(name).stopTimeoutMs);
  }

  /**
   * Sends a signal to a service's process group and returns at once. One that ends
   * it (anything but a pause) is the caller's doing: the service stays down until
   * started again, as after stop() (a failure test kills and then restores it itself).
   */
  kill(name: ServiceName, signal: NodeJS.Signals = "SIGTERM") {
    const p = this.proc(name);
    if (!PAUSES.has(signal)) {
      this.kept.delete(name);
      void this.callOffRestart(name);
      if (p.running) {
        p.log(`[launcher] ${signal} sent by the stack's kill(): not restarted until started again`);
      }
    }
    p.kill(signal);
  }

  /** Whether a service is waiting for its restart, or being restarted. */
  restarting(name: ServiceName): boolean {
    return this.restarts.has(name);
  }

  /** Calls off a pending restart, and waits for one under way to end at its next step. */
  private async callOffRestart(name: ServiceName) {
    const restart = this.restarts.get(name);
    if (!restart) return;
    this.restarts.delete(name);
    clearTimeout(restart.timer);
    restart.abort.abort();
    await restart.attempt;
  }

  /** A kept service exited with no stop() or kill() asking: it is started again after the backoff. */
  private exitedOnItsOwn(name: ServiceName) {
    if (!this.kept.has(name) || this.restarts.has(name)) return;
    const p = this.proc(name);
    const run = this.runs.get(name) ?? { began: 0, delayMs: 0, restarts: 0 };
    const { firstMs, maxMs, resetAfterMs } = RESTART_BACKOFF;
    const delayMs = run.delayMs === 0 || performance.now() - run.began >= resetAfterMs
      ? firstMs
      : Math.min(run.delayMs * 2, maxMs);
    this.runs.set(name, { ...run, delayMs });
    p.log(
      `[launcher] restarting ${name} in ${delayMs / 1000} s (as compose's restart: unless-stopped; ` +
        `the delay doubles while it keeps exiting)`,
    );
    const restart: Restart = { abort: new AbortController() };
    this.restarts.set(name, restart);
    restart.timer = setTimeout(() => {
      restart.timer = undefined;
      restart.attempt = this.restartNow(name, restart);
    }, delayMs);
  }

  private async restartNow(name: ServiceName, restart: Restart) {
    const p = this.proc(name);
    let failed = false;
    try {
      await this.startOnce(name, restart.abort.signal);
      const run = this.runs.get(name)!;
      run.restarts++;
      p.log(`[launcher] ${name} restarted (${run.restarts} restart(s) so far)`);
    } catch (err) {
      if (restart.abort.signal.aborted) return;
      failed = true;
      p.log(`[launcher] restarting ${name} failed: ${(err as Error).message.split("\n")[0]}`);
    } finally {
      if (this.restarts.get(name) === restart) this.restarts.delete(name);
    }
    // Up but never healthy: left running (compose does not restart an unhealthy one either).
    if (failed && !p.running) this.exitedOnItsOwn(name);
  }

  /** The running services in the order stopAll() stops them. */
  running(): ServiceName[] {
    return [...this.groups].reverse().flatMap((group) => group.filter((name) => this.proc(name).running));
  }

  /** Stops every service, the last group first (each group together). */
  async stopAll() {
    for (const group of [...this.groups].reverse()) await Promise.all(group.map((name) => this.stop(name)));
  }

  /** Waits until a running service passes its probes again. */
  async waitHealthy(name: ServiceName, timeoutMs = this.options.timeoutMs) {
    const p = this.proc(name);
    for (const probe of this.def(name).probes) {
      await waitFor(probe, { timeoutMs, gone: () => (p.running ? undefined : `${name} is not running`) });
    }
  }

  /** Last resort on the launcher's exit: SIGKILL to every child, no waiting. */
  readonly killNow = () => this.procs.forEach((p) => p.killNow());
}
