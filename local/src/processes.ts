// Child processes of the launcher: spawning, log streaming and stopping.
//
// Each child runs in its own process group (detached: setsid), so a Ctrl-C on the
// terminal reaches only the launcher, which then stops the children in order; and
// signalling the group also reaches anything a child started itself. A pid file per
// child lets the next launcher clean up after one that was killed with SIGKILL.
import { Buffer } from "node:buffer";
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Subprocess } from "bun";

// ---------------------------------------------------------------- log sinks

export interface LogSink {
  line(service: string, text: string): void;
  /** Several lines at once (one write for a whole chunk of a busy child's output). */
  lines?(service: string, texts: string[]): void;
  /** A file the service's output may go straight into (no pipe through the launcher). */
  fileOf?(service: string): string;
  close(): Promise<void>;
}

const COLORS = [36, 32, 33, 35, 34, 96, 92, 93, 95, 94, 91];

/** Every line on stdout, prefixed with its service's name (padded, colored on a TTY). */
export function consoleSink(
  names: readonly string[],
  out: { write(s: string): unknown; isTTY?: boolean } = process.stdout,
): LogSink {
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

/**
 * One file per service (`<dir>/<service>.log`, appended), for quiet runs such as tests.
 * Lines are gathered and written every FLUSH_MS (or at 64 KiB) with one write(2)
 * per file: a stream write per line cost the launcher a third of a core under load.
 */
export function fileSink(dir: string): LogSink {
  mkdirSync(dir, { recursive: true });
  const FLUSH_MS = 50;
  const files = new Map<string, { fd: number; pending: string[]; size: number }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = (f: { fd: number; pending: string[]; size: number }) => {
    if (f.pending.length === 0) return;
    const text = f.pending.join("");
    f.pending = [];
    f.size = 0;
    try {
      writeSync(f.fd, text);
    } catch {
      // A log file that cannot be written must not take the launcher down.
    }
  };
  const flushAll = () => {
    timer = undefined;
    for (const f of files.values()) write(f);
  };
  let closed = false;
  const add = (service: string, text: string) => {
    if (closed) {
      // A straggler after close (a child's last words): written at once.
      try {
        appendFileSync(path.join(dir, `${service}.log`), text);
      } catch {
        // As above: never fatal.
      }
      return;
    }
    let f = files.get(service);
    if (!f) {
      mkdirSync(dir, { recursive: true });
      f = { fd: openSync(path.join(dir, `${service}.log`), "a"), pending: [], size: 0 };
      files.set(service, f);
    }
    f.pending.push(text);
    f.size += text.length;
    if (f.size >= 65536) write(f);
    else timer ??= setTimeout(flushAll, FLUSH_MS);
  };
  process.on("exit", flushAll);
  return {
    fileOf(service) {
      const f = files.get(service);
      if (f) write(f); // what was queued comes before what the child writes
      return path.join(dir, `${service}.log`);
    },
    line: (service, text) => add(service, `${text}\n`),
    lines: (service, texts) => add(service, `${texts.join("\n")}\n`),
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      flushAll();
      for (const f of files.values()) closeSync(f.fd);
      files.clear();
      process.off("exit", flushAll);
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
  private lines: string[] = [];
  /** Set while the child writes straight into this file. */
  private direct: string | undefined;
  /** Resolves with the exit code of the current run. */
  exited: Promise<number> = Promise.resolve(0);
  /** How the last run ended (code, or the signal that ended it); undefined before any exit. */
  lastExit: { code: number | null; signal: string | null } | undefined;

  constructor(
    readonly name: string,
    private command: () => Command,
    private sink: LogSink,
    private runDir: string,
    private options: { pipeOutput?: boolean } = {},
  ) {}

  get pid() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null
      ? this.proc.pid
      : undefined;
  }

  get running() {
    return this.pid !== undefined;
  }

  /** The last lines the process (and the launcher about it) wrote, for error messages. */
  get tail(): string[] {
    return this.direct ? lastLines(this.direct, TAIL_LINES) : this.lines;
  }

  log(text: string) {
    if (this.direct) {
      // The same file as the child's output, in the order things happened.
      try {
        appendFileSync(this.direct, `${text}\n`);
      } catch {
        // Never fatal.
      }
      return;
    }
    this.lines.push(text);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.sink.line(this.name, text);
  }

  // Under load a child writes a log line per request: a chunk's lines are kept and
  // passed on together, not one by one (this was a sixth of the machine's CPU in the bench).
  private logAll(texts: string[]) {
    if (texts.length === 0) return;
    if (!this.sink.lines) {
      for (const t of texts) this.log(t);
      return;
    }
    this.lines.push(...texts.slice(-TAIL_LINES));
    if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
    this.sink.lines(this.name, texts);
  }

  start() {
    if (this.running) return;
    const { cmd, env, cwd } = this.command();
    this.stopping = false;
    // A sink with files takes the output straight from the child: under load every
    // tier logs a line per request, and pumping them through the launcher cost it
    // a fifth of a core in the bench. Otherwise the lines come through pipes.
    this.direct = this.options.pipeOutput ? undefined : this.sink.fileOf?.(this.name);
    let proc: Subprocess;
    if (this.direct) {
      // The shell opens the file in append mode (>>) and execs the program in its
      // place. An fd handed to Bun.spawn reaches the child without O_APPEND, so the
      // child's writes and the launcher's own lines in the same file overwrite each other.
      proc = Bun.spawn(["/bin/sh", "-c", 'exec "$@" >>"$0" 2>&1', this.direct, ...cmd], {
        cwd,
        env,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
        detached: true,
      });
      this.pumps = [];
    } else {
      proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
      this.pumps = [
        this.pump(proc.stdout as ReadableStream<Uint8Array>),
        this.pump(proc.stderr as ReadableStream<Uint8Array>),
      ];
    }
    this.proc = proc;
    writePidFile(this.runDir, this.name, proc.pid, cmd[0]!);
    this.exited = proc.exited.then(async (code) => {
      // Let the last lines through before reporting the exit.
      await Promise.race([Promise.all(this.pumps), Bun.sleep(500)]);
      removePidFile(this.runDir, this.name, proc.pid);
      this.lastExit = {
        code: proc.signalCode ? null : code,
        signal: proc.signalCode === null ? null : String(proc.signalCode),
      };
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
        const text = rest + decoder.decode(chunk, { stream: true });
        const end = text.lastIndexOf("\n");
        if (end < 0) {
          rest = text;
          continue;
        }
        rest = text.slice(end + 1);
        const block = text.slice(0, end);
        this.logAll((block.includes("\r") ? block.replace(/\r$/gm, "") : block).split("\n"));
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
      // A timer, cleared once it has exited: a pending sleep would keep a caller's
      // process alive for the whole grace period after everything stopped.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([
        this.exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
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

/** The last `n` lines of a file (read from its last 64 KiB). */
function lastLines(file: string, n: number): string[] {
  try {
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 65536);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      const lines = buf.toString("utf8").split("\n");
      if (lines.at(-1) === "") lines.pop();
      if (length < size) lines.shift(); // a partial first line
      return lines.slice(-n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
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
