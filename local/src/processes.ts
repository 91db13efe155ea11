// Child processes of the launcher: spawning, log streaming and stopping.
//
// Each child runs in its own process group (detached: setsid), so a Ctrl-C on the
// terminal reaches only the launcher, which then stops the children in order; and
// signalling the group also reaches anything a child started itself. A pid file per
// child lets the next launcher clean up after one that was killed with SIGKILL.
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import path from "node:path";
import type { Subprocess } from "bun";

// ---------------------------------------------------------------- log sinks

export interface LogSink {
  line(service: string, text: string): void;
  close(): Promise<void>;
}

const COLORS = [36, 32, 33, 35, 34, 96, 92, 93, 95, 94, 91];

/** Every line on stdout, prefixed with its service's name (padded, colored on a TTY). */
export function consoleSink(names: readonly string[], out: { write(s: string): unknown; isTTY?: boolean } = process.stdout): LogSink {
  const width = Math.max(...names.map((n) => n.length), 6);
  const color = out.isTTY && !process.env.NO_COLOR;
  const colorOf = (name: string) => COLORS[Math.max(0, names.indexOf(name)) % COLORS.length];
  return {
    line(service, text) {
      const label = service.padEnd(width);
      out.write(color ? `\x1b[${colorOf(service)}m${label} |\x1b[0m ${text}\n` : `${label} | ${text}\n`);
    },
    async close() {},
  };
}

/** One file per service (`<dir>/<service>.log`, appended), for quiet runs such as tests. */
export function fileSink(dir: string): LogSink {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, WriteStream>();
  return {
    line(service, text) {
      let f = files.get(service);
      if (!f) {
        mkdirSync(dir, { recursive: true });
        f = createWriteStream(path.join(dir, `${service}.log`), { flags: "a" });
        // A log file that cannot be written must not take the launcher down.
        f.on("error", () => {});
        files.set(service, f);
      }
      f.write(`${text}\n`);
    },
    async close() {
      await Promise.all([...files.values()].map((f) => new Promise<void>((r) => f.end(r))));
      files.clear();
    },
  };
}

// ---------------------------------------------------------------- processes

export type Command = { cmd: string[]; env: Record<string, string | undefined>; cwd: string };

const TAIL_LINES = 200;

export class ManagedProcess {
  private proc: Subprocess | undefined;
  private pumps: Promise<void>[] = [];
  private stopping = false;
  /** The last lines the process wrote, for error messages. */
  readonly tail: string[] = [];
  /** Resolves with the exit code of the current run. */
  exited: Promise<number> = Promise.resolve(0);
  /** How the last run ended (code, or the signal that ended it); undefined before any exit. */
  lastExit: { code: number | null; signal: string | null } | undefined;

  constructor(
    readonly name: string,
    private command: () => Command,
    private sink: LogSink,
    private runDir: string,
  ) {}

  get pid() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null ? this.proc.pid : undefined;
  }

  get running() {
    return this.pid !== undefined;
  }

  log(text: string) {
    this.tail.push(text);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.sink.line(this.name, text);
  }

  start() {
    if (this.running) return;
    const { cmd, env, cwd } = this.command();
    this.stopping = false;
    const proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
    this.proc = proc;
    writePidFile(this.runDir, this.name, proc.pid, cmd[0]!);
    this.pumps = [this.pump(proc.stdout), this.pump(proc.stderr)];
    this.exited = proc.exited.then(async (code) => {
      // Let the last lines through before reporting the exit.
      await Promise.race([Promise.all(this.pumps), Bun.sleep(500)]);
      removePidFile(this.runDir, this.name, proc.pid);
      this.lastExit = { code: proc.signalCode ? null : code, signal: proc.signalCode === null ? null : String(proc.signalCode) };
      const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
      if (!this.stopping) this.log(`[launcher] ${this.name} exited unexpectedly (${how})`);
      return code;
    });
  }

  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let rest = "";
    try {
      for await (const chunk of stream) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) this.log(l.replace(/\r$/, ""));
      }
    } catch {
      // The pipe closes with the process; nothing to report.
    }
    if (rest) this.log(rest);
  }

  /** Sends a signal to the process group (no-op when not running). */
  kill(signal: NodeJS.Signals | number = "SIGTERM") {
    const pid = this.pid;
    if (pid === undefined) return;
    signalGroup(pid, signal);
  }

  /** SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves once it has exited. */
  async stop(timeoutMs = 10_000, signal: NodeJS.Signals = "SIGTERM") {
    if (!this.proc) return;
    this.stopping = true;
    const pid = this.pid;
    if (pid !== undefined) {
      signalGroup(pid, signal);
      const done = await Promise.race([this.exited.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
      if (!done) {
        this.log(`[launcher] ${this.name} did not stop within ${timeoutMs} ms: SIGKILL`);
        signalGroup(pid, "SIGKILL");
      }
    }
    await this.exited;
  }

  /** Last resort on exit of the launcher: synchronous, no waiting. */
  killNow() {
    const pid = this.pid;
    if (pid !== undefined) signalGroup(pid, "SIGKILL");
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals | number) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

// ---------------------------------------------------------------- pid files

function writePidFile(dir: string, name: string, pid: number, exe: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.pid`), `${pid}\n${exe}\n`);
}

function removePidFile(dir: string, name: string, pid: number) {
  const file = path.join(dir, `${name}.pid`);
  try {
    if (readFileSync(file, "utf8").split("\n")[0] === String(pid)) rmSync(file);
  } catch {
    // Already gone.
  }
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stops processes a previous launcher on this data dir left behind (it was killed
 * with SIGKILL, or crashed). Only pids whose command still matches what we started
 * are touched, so a recycled pid of some other program is left alone.
 */
export async function reapLeftovers(runDir: string, log: (line: string) => void) {
  if (!existsSync(runDir)) return;
  const victims: number[] = [];
  for (const f of readdirSync(runDir).filter((f) => f.endsWith(".pid"))) {
    const file = path.join(runDir, f);
    const [pidText, exe] = readFileSync(file, "utf8").split("\n");
    const pid = Number(pidText);
    rmSync(file, { force: true });
    if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) continue;
    let cmdline = "";
    try {
      // redis-server rewrites its argv into one string ("/usr/bin/redis-server 127.0.0.1:6379").
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]?.split(" ")[0] ?? "";
    } catch {
      continue;
    }
    if (!exe || path.basename(cmdline) !== path.basename(exe)) continue;
    log(`stopping ${f.replace(/\.pid$/, "")} (pid ${pid}) left over from an earlier run`);
    signalGroup(pid, "SIGTERM");
    victims.push(pid);
  }
  for (let i = 0; i < 100 && victims.some(alive); i++) await Bun.sleep(100);
  for (const pid of victims.filter(alive)) signalGroup(pid, "SIGKILL");
}
