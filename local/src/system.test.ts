// The install step's safety parts: whose lock apt-get would wait for, and apt-get's
// own reason when it fails. (The install itself runs as root from `bun run test`.)
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { aptError, lockHolder, waitForLocks } from "./system.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bazaar-locks-"));
const file = path.join(dir, "lock");
writeFileSync(file, "");
const holders: ReturnType<typeof Bun.spawn>[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) {
    h.kill();
    await h.exited;
  }
});

/** A process that holds `file` locked for `seconds` (util-linux's flock, in every Debian; --no-fork: the holder is the sleep itself). */
async function holdLock(seconds: number) {
  const p = Bun.spawn(["flock", "--exclusive", "--no-fork", file, "sleep", String(seconds)], {
    stdout: "ignore",
    stderr: "inherit",
  });
  holders.push(p);
  // flock holds the lock a moment before it becomes sleep (exec): wait for the sleep.
  for (let i = 0; i < 100 && lockHolder(file)?.command !== "sleep"; i++) await Bun.sleep(20);
  return p;
}

describe("package locks", () => {
  test("a held lock names the process holding it; a free one, or no lock file, names none", async () => {
    expect(lockHolder(file)).toBeUndefined();
    expect(lockHolder(path.join(dir, "never-created"))).toBeUndefined();
    const p = await holdLock(30);
    expect(lockHolder(file)).toEqual({ pid: p.pid, command: "sleep" });
    p.kill();
    await p.exited;
    expect(lockHolder(file)).toBeUndefined();
  });

  test("a lock held past the deadline fails naming its holder, without touching it", async () => {
    const p = await holdLock(30);
    const lines: string[] = [];
    const waited = waitForLocks([file], Date.now() + 300, (l) => lines.push(l), 50);
    await expect(waited).rejects.toThrow(
      `the package lock ${file} is still held by pid ${p.pid} (sleep): let it finish`,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`waiting for the package lock ${file}, held by pid ${p.pid} (sleep)`);
    expect(p.exitCode).toBeNull();
  });

  test("a lock released before the deadline is waited for", async () => {
    await holdLock(0.5);
    const started = Date.now();
    await waitForLocks([file], Date.now() + 10_000, () => {}, 50);
    expect(Date.now() - started).toBeGreaterThan(200);
    expect(lockHolder(file)).toBeUndefined();
  });
});

test("apt-get's failure is told by its last E: line", () => {
  const out =
    "Reading package lists...\nE: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.\n";
  expect(aptError(out)).toBe(
    "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.",
  );
  expect(aptError("W: something\nE: Unable to locate package nope\nE: last one\n")).toBe("E: last one");
  expect(aptError("no error lines\n")).toBe("no error lines");
});

process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
