// A stop at any moment of a start leaves nothing behind. `bun run local` gets SIGTERM
// or SIGINT at several points of its start, spotted from its own output lines; it must
// exit (143 / 130: the start did not complete), name what it stopped, and leave no
// process it started and no port taken. A caller whose process lives as long as its
// stack (the test preload's way, and bench/src/profile.ts's: stopRequests() and
// stopOnSignals) is held to the same, during its start and once it is up.
//
// What "left behind" means is checked from the outside: every process whose
// environment carries this test's data dir (the launcher passes its environment to
// everything it starts), the stack's ports, and its pid files.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Subprocess } from "bun";
import { plannedPorts, PORT_PLAN, REPO_ROOT, SERVICE_NAMES, tcpOpen } from "../../local/src/index.ts";
import { launcherEnv, spawnCollecting } from "./launch.ts";

// Ports of their own (PORT_PLAN.interrupt) beside the test stack, the launcher test,
// the bench and a developer's `bun run local`.
const ports = plannedPorts("interrupt");
const DATA_DIR = path.join(REPO_ROOT, ".local/test-interrupt");
const MARK = `STORE_DATA_DIR=${DATA_DIR}`;
/**
 * The start order (services of one group start together); a stop goes the other way.
 * The launcher's own list, whose order local/src/servers.test.ts pins down.
 */
const START_ORDER: readonly string[] = SERVICE_NAMES;
/** Every service below the proxy in stop order: the servers, then the APIs, the cache, db and redis. */
const BELOW_PROXY_STOP_ORDER = [
  "web-1",
  "web-2",
  "admin-1",
  "admin-2",
  "api",
  "admin-api",
  "cache",
  "db",
  "redis",
];

// Quick stops: web and admin drain only briefly.
const childEnv = () =>
  launcherEnv(DATA_DIR, ports, { ADMIN_PASSWORD: "interrupt-test", SHUTDOWN_DRAIN_MS: "200" });

/** Every process but this one whose environment names this test's data dir. */
function ours(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(MARK)) continue;
      found.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

const pidFiles = () => {
  const dir = path.join(DATA_DIR, "run");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".pid")) : [];
};

async function openPorts() {
  const open: number[] = [];
  for (const port of Object.values(ports)) if (await tcpOpen("127.0.0.1", port, 500)) open.push(port);
  return open;
}

/** Only for a failed test: what it started must not outlive it. */
async function killOurs() {
  for (const { pid } of ours()) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 50 && ours().length; i++) await Bun.sleep(100);
}

type Run = {
  proc: Subprocess;
  /** stdout and stderr so far. */
  output(): string;
  /** Waits until `source()` (default: the output) matches; fails if the process ends first. */
  until(re: RegExp, source?: () => string): Promise<RegExpMatchArray>;
  /** How it ended: the exit code, or the signal's name. */
  ended(): Promise<number | string>;
};

function spawn(cmd: string[]): Run {
  const { proc, output, pumped } = spawnCollecting(cmd, childEnv());
  return {
    proc,
    output,
    async until(re, source = output) {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const m = source().match(re);
        if (m) return m;
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`ended before ${re}:\n${output()}`);
        }
        if (Date.now() > deadline) throw new Error(`no ${re} within 90 s:\n${output()}`);
        await Bun.sleep(10);
      }
    },
    async ended() {
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(60_000).then(() => false)]);
      if (!done) throw new Error(`still running 60 s after the signal:\n${output()}`);
      await pumped;
      return proc.signalCode ?? proc.exitCode!;
    },
  };
}

/** `bun run local`, as a user starts it. */
const launcher = (...args: string[]) => spawn(["bun", "run", "local", ...args]);

/** The launcher's "stopped during start" line: the services it names, in its order. */
function stoppedDuringStart(output: string, signal: string): string[] {
  const m = output.match(new RegExp(`^launcher\\s+\\| stopped during start \\(${signal}\\): (.*)$`, "m"));
  if (!m) throw new Error(`no "stopped during start (${signal})" line in:\n${output}`);
  return m[1] === "nothing was running yet" ? [] : m[1]!.replace(/^stopped /, "").split(", ");
}

/** The names come in stop order: the reverse of the start order, group by group. */
function expectReverseOrder(names: string[]) {
  const rank = (n: string) => START_ORDER.indexOf(n);
  const groupOf = (n: string) => ({ db: 0, redis: 0, cache: 1, api: 2, "admin-api": 2, proxy: 4 })[n] ?? 3;
  for (const n of names) expect(rank(n)).toBeGreaterThanOrEqual(0);
  const groups = names.map(groupOf);
  expect(groups).toEqual([...groups].sort((a, b) => b - a));
}

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie is dead
  } catch {
    return false;
  }
};

/**
 * The run has ended and nothing it started is left: no process (found by its
 * environment, and by the pids the launcher logged: "[launcher] started, pid N"), no
 * port taken, no pid file. A forced stop SIGKILLs on its way out without waiting, so
 * its children get a moment to finish dying, and their pid files stay for the next
 * start to clear.
 */
async function expectNothingLeft(run: Run, opts: { log?: () => string; forced?: boolean } = {}) {
  const how = await run.ended();
  const pids = [...(opts.log ?? run.output)().matchAll(/\[launcher\] started, pid (\d+)/g)].map((m) =>
    Number(m[1])
  );
  const left = async () => ({ processes: ours(), pids: pids.filter(alive), ports: await openPorts() });
  let now = await left();
  for (
    let i = 0;
    opts.forced && i < 30 && (now.processes.length || now.pids.length || now.ports.length);
    i++
  ) {
    await Bun.sleep(100);
    now = await left();
  }
  expect(now).toEqual({ processes: [], pids: [], ports: [] });
  if (!opts.forced) expect(pidFiles()).toEqual([]);
  return how;
}

/** Pauses a process the launcher just started, so its start cannot finish under the test. */
const freeze = (pid: number) => process.kill(pid, "SIGSTOP");
const thaw = (pid: number) => {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Already gone.
  }
};

beforeAll(async () => {
  // A failed earlier run of this file may have left its own processes.
  await killOurs();
  const taken = await openPorts();
  if (taken.length) {
    throw new Error(
      `ports ${
        taken.join(", ")
      } are taken: this test needs the design's ports + ${PORT_PLAN.interrupt.offset}`,
    );
  }
});

afterAll(async () => {
  await killOurs();
});

/** Runs a test's body; whatever happens, the launcher and everything it started end. */
const guarded = async (run: Run, body: () => Promise<void>) => {
  try {
    await body();
  } finally {
    if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill("SIGKILL");
    await killOurs();
  }
};

describe("a stop during bun run local's start", () => {
  test("right after spawn: it ends and starts nothing", async () => {
    const run = launcher("--fresh");
    await guarded(run, async () => {
      run.proc.kill("SIGTERM");
      const how = await expectNothingLeft(run);
      // Before the launcher listens, the signal's default action ends it; after, it stops.
      expect([143, "SIGTERM"]).toContain(how);
    });
  }, 60_000);

  test(
    "once the launcher speaks: Ctrl-C (twice at once, as under bun run) stops what was started, exit 130",
    async () => {
      const run = launcher("--fresh");
      await guarded(run, async () => {
        await run.until(/^launcher\s+\| starting in /m);
        run.proc.kill("SIGINT");
        run.proc.kill("SIGINT");
        expect(await expectNothingLeft(run)).toBe(130);
        expectReverseOrder(stoppedDuringStart(run.output(), "SIGINT"));
        // The pair counted as one request: no forced stop.
        expect(run.output()).not.toContain("forcing the stop");
      });
    },
    60_000,
  );

  test(
    "while the database is created: mariadb-install-db finishes, then everything stops, exit 143",
    async () => {
      const run = launcher("--fresh");
      await guarded(run, async () => {
        await run.until(/^db\s+\| \[launcher\] creating a new database/m);
        run.proc.kill("SIGTERM");
        expect(await expectNothingLeft(run)).toBe(143);
        expect(run.output()).toMatch(
          /^launcher\s+\| SIGTERM during start \(starting db, redis\): stopping what was started/m,
        );
        const stopped = stoppedDuringStart(run.output(), "SIGTERM");
        expect(stopped).not.toContain("db"); // never started: the signal came first
        expectReverseOrder(stopped);
      });
    },
    90_000,
  );

  // Once a tier answered: what was started is stopped in reverse, the proxy never was.
  const afterHealthy = [
    {
      service: "db",
      signal: "SIGINT",
      code: 130,
      stops: ["db", "redis"],
      what: "the database is up: SIGINT stops the database and Redis",
    },
    {
      service: "api",
      signal: "SIGTERM",
      code: 143,
      stops: ["api", "cache", "db", "redis"],
      what: "api answered: SIGTERM stops api, the bridge, Redis and the database",
    },
  ] as const;
  for (const point of afterHealthy) {
    test(`after ${point.what}, exit ${point.code}`, async () => {
      const run = launcher();
      await guarded(run, async () => {
        await run.until(new RegExp(`^${point.service}\\s+\\| \\[launcher\\] healthy after`, "m"));
        run.proc.kill(point.signal);
        expect(await expectNothingLeft(run)).toBe(point.code);
        const stopped = stoppedDuringStart(run.output(), point.signal);
        expect(stopped).toEqual(expect.arrayContaining([...point.stops]));
        expect(stopped).not.toContain("proxy");
        expectReverseOrder(stopped);
      });
    }, 90_000);
  }

  test("while the web servers start: Ctrl-C stops the web tier first, then the rest, exit 130", async () => {
    const run = launcher();
    await guarded(run, async () => {
      // web-2 held where it is, so the web tier is surely still starting.
      const pid = Number((await run.until(/^web-2\s+\| \[launcher\] started, pid (\d+)/m))[1]);
      freeze(pid);
      try {
        run.proc.kill("SIGINT");
        run.proc.kill("SIGINT");
        await run.until(/^launcher\s+\| SIGINT during start \(starting web-1, web-2, admin-1, admin-2\)/m);
      } finally {
        thaw(pid);
      }
      expect(await expectNothingLeft(run)).toBe(130);
      expect(stoppedDuringStart(run.output(), "SIGINT")).toEqual(BELOW_PROXY_STOP_ORDER);
    });
  }, 90_000);

  test("while the proxy starts: SIGTERM stops all ten, the proxy first, exit 143", async () => {
    const run = launcher();
    await guarded(run, async () => {
      const pid = Number((await run.until(/^proxy\s+\| \[launcher\] started, pid (\d+)/m))[1]);
      freeze(pid);
      try {
        run.proc.kill("SIGTERM");
        await run.until(/^launcher\s+\| SIGTERM during start \(starting proxy\)/m);
      } finally {
        thaw(pid);
      }
      expect(await expectNothingLeft(run)).toBe(143);
      // Every one was started (and checked above by its pid).
      expect(run.output().match(/\[launcher\] started, pid \d+/g)).toHaveLength(10);
      expect(stoppedDuringStart(run.output(), "SIGTERM")).toEqual(["proxy", ...BELOW_PROXY_STOP_ORDER]);
    });
  }, 90_000);

  test(
    "a second signal more than a second later forces the stop: the exit hook kills what is left",
    async () => {
      const run = launcher();
      await guarded(run, async () => {
        // web-1 held: its stop waits out its grace period, and the second signal cuts it short.
        const pid = Number((await run.until(/^web-1\s+\| \[launcher\] started, pid (\d+)/m))[1]);
        freeze(pid);
        run.proc.kill("SIGTERM");
        await run.until(/^launcher\s+\| SIGTERM during start/m);
        await Bun.sleep(1500);
        run.proc.kill("SIGTERM");
        expect(await expectNothingLeft(run, { forced: true })).toBe(143);
        expect(run.output()).toContain("SIGTERM again: forcing the stop");
      });
    },
    90_000,
  );
});

describe("a stop of a startStack() caller that stops on signals (as the test preload)", () => {
  // Quiet, as the preload runs it: the lines are in <data>/logs/*.log.
  const script = `
    import { startStack, stopOnSignals, stopRequests } from ${
    JSON.stringify(path.join(REPO_ROOT, "local/src/index.ts"))
  };
    const requests = stopRequests();
    const starting = startStack({ quiet: true, fresh: true, signal: requests.signal });
    stopOnSignals(requests, starting);
    if (await starting.catch(() => undefined)) console.log("up");
    setInterval(() => {}, 1000);
  `;
  const logs = (...names: string[]) => () =>
    names.map((n) => {
      try {
        return readFileSync(path.join(DATA_DIR, "logs", `${n}.log`), "utf8");
      } catch {
        return "";
      }
    }).join("\n");

  test("during its start: SIGTERM stops what was started and ends the process, exit 143", async () => {
    rmSync(path.join(DATA_DIR, "logs"), { recursive: true, force: true });
    const run = spawn(["bun", "-e", script]);
    await guarded(run, async () => {
      await run.until(/\[launcher\] healthy after/, logs("api"));
      run.proc.kill("SIGTERM");
      expect(await expectNothingLeft(run, { log: logs(...START_ORDER) })).toBe(143);
      expect(run.output()).toContain("SIGTERM: stopping the stack");
      expect(run.output()).not.toMatch(/^up$/m);
      const stopped = logs("launcher")().match(/^stopped during start \(SIGTERM\): stopped (.*)$/m)?.[1]
        ?.split(", ");
      expect(stopped).toEqual(expect.arrayContaining(["api", "cache", "db", "redis"]));
      expectReverseOrder(stopped!);
    });
  }, 90_000);

  test("once it is up: Ctrl-C stops the whole stack and ends the process, exit 130", async () => {
    rmSync(path.join(DATA_DIR, "logs"), { recursive: true, force: true });
    const run = spawn(["bun", "-e", script]);
    await guarded(run, async () => {
      await run.until(/^up$/m);
      run.proc.kill("SIGINT");
      expect(await expectNothingLeft(run, { log: logs(...START_ORDER) })).toBe(130);
      expect(logs("launcher")()).toMatch(/^stopped$/m);
    });
  }, 90_000);
});
