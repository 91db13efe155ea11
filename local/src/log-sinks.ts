// Where the launcher's and its children's lines go: the terminal, prefixed with the
// service's name (--verbose); one file per service (quiet runs such as tests); or
// the files, with the launcher's own lines and the services' errors also on the
// terminal (bun run local's default: a line per request would bury everything else).
import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";

export interface LogSink {
  line(service: string, text: string): void;
  /** Several lines at once (one write for a whole chunk of a busy child's output). */
  lines?(service: string, texts: string[]): void;
  /** A file the service's output may go straight into (no pipe through the launcher). */
  fileOf?(service: string): string;
  /** A line the launcher wrote itself into a service's file (fileOf): started, healthy, exited, restarting. */
  notice?(service: string, text: string): void;
  /**
   * With it, a service's stderr (errors and warnings) is piped through the launcher
   * (written into its file, then passed here); without it, it goes to the file with stdout.
   */
  errors?(service: string, texts: string[]): void;
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

/** At most this many stderr lines of one service on the terminal per window; the rest are counted. */
export const SHOWN_ERRORS = { lines: 5, windowMs: 10_000, maxChars: 400 };

/**
 * A service's stderr lines that are not errors: MariaDB's and HAProxy's notes at start
 * and stop; with DB_NODES=3 the state transfer script's progress and a new node's
 * empty grastate.dat (and its view), which Galera prints after a warning that it has none.
 */
const NOT_AN_ERROR =
  /\[(Note|NOTICE)\]|^Version: '|^WSREP_SST: \[INFO\]|^(Version: \d+|UUID: [0-9a-f-]+|Seqno: .*|Offset: -?\d+|Synced: \d+|View:)$/;
/** A MariaDB log line's start. */
const MARIADB_LINE = /^\d{4}-\d\d-\d\d\s/;
/** A line that continues the one before it: Galera's view dumps (indented, or closing a brace). */
const CONTINUATION = /^[\s})]/;

/**
 * `bun run local`'s default: every service's output in its file (fileSink), and on the
 * terminal only what a person needs to see — the launcher's own lines (the start, each
 * service started and healthy, one that exited and its restart) and what services write
 * to stderr (errors and warnings: at most SHOWN_ERRORS.lines per service in
 * SHOWN_ERRORS.windowMs, then a count and the file to read).
 */
export function filesAndNotices(
  dir: string,
  names: readonly string[],
  out: { write(s: string): unknown; isTTY?: boolean } = process.stdout,
): LogSink {
  const files = fileSink(dir);
  const terminal = consoleSink(names, out);
  const windows = new Map<
    string,
    { started: number; shown: number; hidden: number; timer?: ReturnType<typeof setTimeout> }
  >();
  /** Per service: whether its last MariaDB line was a note (the lines continuing it are too). */
  const inNote = new Map<string, boolean>();
  const hiddenSummary = (service: string) => {
    const w = windows.get(service);
    if (!w) return;
    if (w.timer !== undefined) clearTimeout(w.timer);
    windows.delete(service);
    if (w.hidden > 0) {
      terminal.line(
        service,
        `[launcher] ${w.hidden} more line(s) on stderr: ${path.join(dir, `${service}.log`)}`,
      );
    }
  };
  const show = (service: string, text: string) => {
    const now = performance.now();
    let w = windows.get(service);
    if (w && now - w.started >= SHOWN_ERRORS.windowMs) {
      hiddenSummary(service);
      w = undefined;
    }
    if (!w) windows.set(service, w = { started: now, shown: 0, hidden: 0 });
    if (w.shown < SHOWN_ERRORS.lines) {
      w.shown++;
      terminal.line(
        service,
        text.length > SHOWN_ERRORS.maxChars ? `${text.slice(0, SHOWN_ERRORS.maxChars)} …` : text,
      );
      return;
    }
    w.hidden++;
    if (w.timer === undefined) {
      w.timer = setTimeout(() => hiddenSummary(service), SHOWN_ERRORS.windowMs - (now - w.started));
      (w.timer as { unref?: () => void }).unref?.();
    }
  };
  return {
    fileOf: (service) => files.fileOf!(service),
    line(service, text) {
      files.line(service, text);
      terminal.line(service, text);
    },
    lines: (service, texts) => files.lines!(service, texts),
    notice: (service, text) => terminal.line(service, text),
    errors(service, texts) {
      for (const t of texts) {
        if (MARIADB_LINE.test(t)) inNote.set(service, NOT_AN_ERROR.test(t));
        else if (inNote.get(service) && CONTINUATION.test(t)) continue;
        else inNote.set(service, false);
        if (t.trim() && !NOT_AN_ERROR.test(t)) show(service, t);
      }
    },
    async close() {
      for (const service of [...windows.keys()]) hiddenSummary(service);
      await files.close();
    },
  };
}
