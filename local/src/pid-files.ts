// The pid files in <dataDir>/run: one per running child (its pid and program), so
// that the next launcher can stop what one killed with SIGKILL left running.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export function writePidFile(dir: string, name: string, pid: number, exe: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.pid`), `${pid}\n${exe}\n`);
}

export function removePidFile(dir: string, name: string, pid: number) {
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

/** Signals a child's process group (every child runs in its own: see managed-process.ts), else the pid alone. */
export function signalGroup(pid: number, signal: NodeJS.Signals | number) {
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
