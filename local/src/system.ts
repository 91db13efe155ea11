// The system programs the stack runs (MariaDB, Redis, HAProxy) and the browser tests
// drive (Chromium) come from Debian packages. A missing one is named with its package;
// as root on Debian/Ubuntu it is installed with apt-get, so a fresh machine needs one
// command. The launcher and `bun run test` (once, before any test) share this step.
//
// apt-get must never be cut short: a dpkg killed mid-install leaves the machine needing
// `dpkg --configure -a`. So it runs in a session of its own (a Ctrl-C or a dying parent
// does not reach it), with no timeout, its output in a log file; and a package lock held
// by someone else is waited for, with a deadline, never raced.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export type Program = { bin: string; pkg: string };

export const PROGRAMS = {
  mariadbd: { bin: "mariadbd", pkg: "mariadb-server" },
  installDb: { bin: "mariadb-install-db", pkg: "mariadb-server" },
  mariadb: { bin: "mariadb", pkg: "mariadb-client" },
  redis: { bin: "redis-server", pkg: "redis-server" },
  haproxy: { bin: "haproxy", pkg: "haproxy" },
} satisfies Record<string, Program>;

/** What a Galera cluster (DB_NODES=3) needs besides: its state transfers' tool; the provider comes with galera-4. */
export const GALERA_PROGRAMS = {
  mariabackup: { bin: "mariabackup", pkg: "mariadb-backup" },
} satisfies Record<string, Program>;

/** The browser tests' Chromium (Debian's, driven by playwright-core). */
export const BROWSER = { chromium: { bin: "chromium", pkg: "chromium" } } satisfies Record<string, Program>;

// Daemons live in sbin, which a non-root PATH often lacks.
const SEARCH_PATH = [
  process.env.PATH ?? "",
  "/usr/local/sbin",
  "/usr/sbin",
  "/sbin",
  "/usr/local/bin",
  "/usr/bin",
  "/bin",
]
  .filter(Boolean)
  .join(":");

export const which = (bin: string): string | null => Bun.which(bin, { PATH: SEARCH_PATH });

export const isRoot = () => process.getuid?.() === 0;

const isDebianLike = () => {
  if (existsSync("/etc/debian_version")) return true;
  try {
    return /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(readFileSync("/etc/os-release", "utf8"));
  } catch {
    return false;
  }
};

export class MissingProgramError extends Error {}

export type InstallOptions = {
  /** false: never install, only name what is missing. */
  install?: boolean;
  /** Progress lines ("installing…", "waiting for the package lock…"). */
  log?: (line: string) => void;
  /** Where apt-get's output goes (appended). Default .local/apt-get.log in the repository. */
  aptLog?: string;
  /** How long to wait for a package lock someone else holds. Default 10 minutes. */
  lockWaitMs?: number;
};

/**
 * Resolves every program to its path. Missing ones are installed when we may
 * (root on Debian/Ubuntu and `install` not false), else a message names the packages.
 */
export async function requirePrograms<const K extends string>(
  programs: Record<K, Program>,
  opts: InstallOptions = {},
): Promise<Record<K, string>> {
  const find = () => Object.entries<Program>(programs).filter(([, p]) => !which(p.bin));
  let missing = find();
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p.pkg))];
    const canInstall = (opts.install ?? true) && isRoot() && isDebianLike() && which("apt-get");
    if (!canInstall) {
      throw new MissingProgramError(
        `missing ${missing.map(([, p]) => p.bin).join(", ")}: install the Debian package(s) ${
          pkgs.join(" ")
        }\n` +
          `  (e.g. sudo apt-get install -y ${pkgs.join(" ")})`,
      );
    }
    await aptInstall(pkgs, opts);
    missing = find();
    if (missing.length) {
      throw new MissingProgramError(
        `apt-get installed ${pkgs.join(" ")} but ${
          missing.map(([, p]) => p.bin).join(", ")
        } is still not found`,
      );
    }
  }
  return Object.fromEntries(Object.entries<Program>(programs).map(([k, p]) => [k, which(p.bin)!])) as Record<
    K,
    string
  >;
}

const REPO_ROOT = path.resolve(import.meta.dir, "../..");
const DEFAULT_APT_LOG = path.join(REPO_ROOT, ".local/apt-get.log");

/** The locks apt-get and dpkg take (fcntl locks on these files). */
export const APT_LOCKS = [
  "/var/lib/dpkg/lock-frontend",
  "/var/lib/dpkg/lock",
  "/var/lib/apt/lists/lock",
  "/var/cache/apt/archives/lock",
];

async function aptInstall(pkgs: string[], opts: InstallOptions) {
  const logFile = opts.aptLog ?? DEFAULT_APT_LOG;
  const relative = path.relative(process.cwd(), logFile);
  const shown = relative && !relative.startsWith("..") ? relative : logFile;
  const deadline = Date.now() + (opts.lockWaitMs ?? 10 * 60_000);
  opts.log?.(`installing ${pkgs.join(" ")} with apt-get (output in ${shown})…`);
  await waitForLocks(APT_LOCKS, deadline, opts.log);

  // policy-rc.d answering 101 stops the packages' postinst from starting the system
  // mariadb/redis/haproxy services, which would take the ports the stack uses.
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  try {
    const run = async (args: string[]) => {
      // Should someone take a lock between our check and apt-get's, apt-get waits for it
      // too (until our deadline) instead of failing.
      const wait = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      const cmd = ["apt-get", "-o", `DPkg::Lock::Timeout=${wait}`, ...args];
      const offset = statSync(logFile).size;
      writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd.join(" ")}\n`);
      const p = Bun.spawn(cmd, {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        stdin: "ignore",
        stdout: fd,
        stderr: fd,
        // Its own session: the terminal's Ctrl-C and a parent killed by a test
        // runner's timeout do not reach apt-get or the dpkg it runs.
        detached: true,
      });
      const code = await p.exited;
      return { ok: code === 0, output: readFileSync(logFile, "utf8").slice(offset) };
    };
    const install = ["install", "-y", "--no-install-recommends", ...pkgs];
    let result = await run(install);
    // A fresh machine may have no package lists yet: update once and retry.
    if (!result.ok) {
      const update = await run(["update"]);
      result = update.ok ? await run(install) : update;
    }
    if (!result.ok) {
      throw new MissingProgramError(
        `apt-get install ${pkgs.join(" ")} failed: ${aptError(result.output)} (full output in ${shown})`,
      );
    }
  } finally {
    closeSync(fd);
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/** apt-get's own reason, from its output: the last "E: …" line (else the last line). */
export function aptError(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.findLast((l) => l.startsWith("E:")) ?? lines.at(-1) ?? "no output";
}

/** The process holding a lock on `file` (fcntl or flock), from /proc/locks; undefined when free. */
export function lockHolder(file: string): { pid: number; command: string } | undefined {
  let st;
  let locks;
  try {
    st = statSync(file, { bigint: true });
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined; // no such lock file (nothing ever took it), or no /proc
  }
  // /proc/locks names the file as major:minor:inode, the numbers in hex:hex:decimal,
  // e.g. "1: POSIX  ADVISORY  WRITE 1234 fe:00:402117 0 EOF" ("->" marks a waiter).
  const dev = st.dev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  const id = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${st.ino}`;
  for (const line of locks.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] === "->") continue;
    const at = f.indexOf(id);
    const pid = Number(f[at - 1]);
    if (at > 0 && pid > 0) {
      let command = "?";
      try {
        command = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      } catch {
        // Gone meanwhile.
      }
      return { pid, command };
    }
  }
  return undefined;
}

/** Waits until no one holds any of `files`, saying once who does; throws at the deadline. */
export async function waitForLocks(
  files: string[],
  deadline: number,
  log?: (line: string) => void,
  stepMs = 1000,
) {
  let said = false;
  for (;;) {
    const held = files.map((file) => ({ file, holder: lockHolder(file) })).find((l) => l.holder);
    if (!held) return;
    const who = `pid ${held.holder!.pid} (${held.holder!.command})`;
    if (Date.now() >= deadline) {
      throw new MissingProgramError(
        `the package lock ${held.file} is still held by ${who}: let it finish (never kill apt-get or dpkg), then try again`,
      );
    }
    if (!said) {
      log?.(
        `waiting for the package lock ${held.file}, held by ${who} (until ${
          new Date(deadline).toLocaleTimeString()
        })…`,
      );
      said = true;
    }
    await Bun.sleep(stepMs);
  }
}
