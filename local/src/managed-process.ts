// One child process of the launcher: started, its output streamed, stopped.
//
// Each child runs in its own process group (detached: setsid), so a Ctrl-C on the
// terminal reaches only the launcher, which then stops the children in order; and
// signalling the group also reaches anything a child started itself. Its pid file
// (pid-files.ts) lets the next launcher clean up after one killed with SIGKILL.
import { Buffer } from "node:buffer";
import { appendFileSync, closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import type { Subprocess } from "bun";
import type { LogSink } from "./log-sinks.ts";
import { removePidFile, signalGroup, writePidFile } from "./pid-files.ts";

export type Command = {
  cmd: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * The program the process ends up as when cmd[0] only starts it (a shell or setpriv
   * that execs it): what its pid file names, so the next launcher knows a leftover.
   */
  program?: string;
};

const TAIL_LINES = 200;

export class ManagedProcess {
  private proc: Subprocess | undefined;
  private pumps: Promise<void>[] = [];
  private stopping = false;
  private lines: string[] = [];
  /** Set while the child writes straight into this file. */
  private direct: string | undefined;
  /** The file's open description the child shares (clearsAppend), for the launcher's own lines. */
  private directFd: number | undefined;
  /** Resolves with the exit code of the current run. */
  exited: Promise<number> = Promise.resolve(0);
  /** How the last run ended (code, or the signal that ended it); undefined before any exit. */
  lastExit: { code: number | null; signal: string | null } | undefined;

  constructor(
    readonly name: string,
    private command: () => Command,
    private sink: LogSink,
    private runDir: string,
    private options: {
      clearsAppend?: boolean;
      /** Called when a run ends that no stop() asked for (a crash, or a signal sent with kill()). */
      onUnexpectedExit?: () => void;
    } = {},
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
      this.appendDirect(`${text}\n`);
      // The launcher's own line about the service: a sink that shows such lines shows it.
      this.sink.notice?.(this.name, text);
      return;
    }
    this.lines.push(text);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.sink.line(this.name, text);
  }

  /** Into the file the child writes, in the order things happened. */
  private appendDirect(text: string) {
    try {
      if (this.directFd !== undefined) writeSync(this.directFd, text);
      else appendFileSync(this.direct!, text);
    } catch {
      // Never fatal.
    }
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
    const { cmd, env, cwd, program } = this.command();
    this.stopping = false;
    // A sink with files takes the output straight from the child: under load every
    // tier logs a line per request, and pumping them through the launcher cost it
    // a fifth of a core in the bench. Otherwise the lines come through pipes.
    this.direct = this.sink.fileOf?.(this.name);
    this.closeDirectFd();
    // A sink that shows errors (bun run local's default) gets the child's stderr through
    // a pipe, into the same file and shown: it is where every tier writes its errors
    // and warnings, and little else; stdout (a line per request) goes straight to the file.
    const errors = this.direct && this.sink.errors ? "pipe" as const : undefined;
    let proc: Subprocess;
    if (this.direct && this.options.clearsAppend) {
      // A child that clears O_APPEND on its output (HAProxy sets it non-blocking with
      // F_SETFL) writes at its own offset: through a file opened for it alone it would
      // land over lines appended by anyone else. So it gets the launcher's own open
      // file, positioned at the end by the line written first, and the launcher's
      // later lines about it go through the same one: one shared offset, nothing lost.
      const fd = openSync(this.direct, "a");
      this.directFd = fd;
      writeSync(fd, `[launcher] starting ${this.name}\n`);
      proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: fd, stderr: errors ?? fd, detached: true });
    } else if (this.direct) {
      // The shell opens the file in append mode (>>) and execs the program in its
      // place. An fd handed to Bun.spawn reaches the child without O_APPEND, so the
      // child's writes and the launcher's own lines in the same file overwrite each other.
      const redirect = errors ? 'exec "$@" >>"$0"' : 'exec "$@" >>"$0" 2>&1';
      proc = Bun.spawn(["/bin/sh", "-c", redirect, this.direct, ...cmd], {
        cwd,
        env,
        stdin: "ignore",
        stdout: "ignore",
        stderr: errors ?? "ignore",
        detached: true,
      });
    } else {
      proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
      this.pumps = [
        this.pump(proc.stdout as ReadableStream<Uint8Array>),
        this.pump(proc.stderr as ReadableStream<Uint8Array>),
      ];
    }
    if (this.direct) {
      this.pumps = errors
        ? [this.pump(proc.stderr as ReadableStream<Uint8Array>, (t) => this.errorLines(t))]
        : [];
    }
    this.proc = proc;
    const fd = this.directFd;
    writePidFile(this.runDir, this.name, proc.pid, program ?? cmd[0]!);
    this.exited = proc.exited.then(async (code) => {
      // Let the last lines through before reporting the exit.
      await Promise.race([Promise.all(this.pumps), Bun.sleep(500)]);
      removePidFile(this.runDir, this.name, proc.pid);
      this.lastExit = {
        code: proc.signalCode ? null : code,
        signal: proc.signalCode === null ? null : String(proc.signalCode),
      };
      const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
      const unexpected = !this.stopping;
      if (unexpected) this.log(`[launcher] ${this.name} exited unexpectedly (${how})`);
      // Its shared file is closed with it (lines after this are appended: no one else writes).
      if (this.directFd === fd) this.closeDirectFd();
      if (unexpected) this.options.onUnexpectedExit?.();
      return code;
    });
  }

  private closeDirectFd() {
    if (this.directFd === undefined) return;
    try {
      closeSync(this.directFd);
    } catch {
      // Already closed: nothing to do.
    }
    this.directFd = undefined;
  }

  /** The child's stderr with logs in files: written into its file, and passed to the sink to show. */
  private errorLines(texts: string[]) {
    if (texts.length === 0) return;
    this.appendDirect(`${texts.join("\n")}\n`);
    this.sink.errors?.(this.name, texts);
  }

  private async pump(stream: ReadableStream<Uint8Array>, take = (texts: string[]) => this.logAll(texts)) {
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
        take((block.includes("\r") ? block.replace(/\r$/gm, "") : block).split("\n"));
      }
    } catch {
      // The pipe closes with the process; nothing to report.
    }
    if (rest) take([rest]);
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
