// The services started in the order their needs give and stopped in reverse, on small real processes
// (bun serving one port each): the order, the steps around a start, a failure.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./config.ts";
import type { LogSink } from "./log-sinks.ts";
import { Cancelled, RESTART_BACKOFF, Runner, StackStartError } from "./runner.ts";
import type { ServiceDef, ServiceName } from "./services.ts";

const dir = mkdtempSync(path.join(tmpdir(), "local-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events: string[] = [];
/** What the launcher said about each service ("web-1: [launcher] started, pid 123"). */
const said: string[] = [];
const sink: LogSink = {
  line: (service, text) => void said.push(`${service}: ${text}`),
  close: async () => {},
};

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A service that serves 200 on a free port once started (or exits at once when
 * `broken`; or, with `script`, runs that, `PORT` standing for its port).
 */
async function service(
  name: ServiceName,
  needs: ServiceName[],
  broken = false,
  own?: string,
): Promise<ServiceDef> {
  const port = await freePort();
  const serve = `Bun.serve({ port: ${port}, hostname: "127.0.0.1", fetch: () => new Response("ok") })`;
  const script = own?.replaceAll("PORT", String(port)).replace("SERVE", serve) ??
    (broken ? "process.exit(3)" : serve);
  return {
    name,
    needs,
    command: () => ({ cmd: [process.execPath, "-e", script], cwd: REPO_ROOT, env: { ...process.env } }),
    probes: [{ http: `http://127.0.0.1:${port}/` }],
    stopTimeoutMs: 2000,
    beforeStart: () => void events.push(`before ${name}`),
    afterHealthy: () => void events.push(`healthy ${name}`),
  };
}

const runnerOf = async (defs: Promise<ServiceDef>[]) =>
  new Runner(await Promise.all(defs), sink, path.join(dir, "run"), {
    timeoutMs: 5000,
    logFile: () => undefined,
  });

describe("startAll", () => {
  test("a service starts once what it needs is healthy, those with the same needs met together; stopAll stops the last first; a second startAll starts what is not running", async () => {
    events.length = 0;
    const runner = await runnerOf([
      service("db", []),
      service("api", ["db"]),
      service("web-1", ["api"]),
      service("web-2", ["api"]),
    ]);
    const groups: ServiceName[][] = [];
    try {
      await runner.startAll({ onGroup: (names) => groups.push(names) });
      expect(groups).toEqual([["db"], ["api"], ["web-1", "web-2"]]);
      expect(events.slice(0, 4)).toEqual(["before db", "healthy db", "before api", "healthy api"]);
      expect(runner.running()).toEqual(["web-1", "web-2", "api", "db"]);

      await runner.stop("api");
      groups.length = 0;
      await runner.startAll({ onGroup: (names) => groups.push(names) });
      expect(groups).toEqual([["api"]]);
    } finally {
      await runner.stopAll();
    }
    expect(runner.running()).toEqual([]);
  });

  test("a service that exits while starting fails the start naming it, and what needs it is not begun", async () => {
    const runner = await runnerOf([
      service("db", []),
      service("api", ["db"], true),
      service("web-1", ["api"]),
    ]);
    const failures: unknown[] = [];
    const start = runner.startAll({ onFailure: (err) => failures.push(err) });
    try {
      await expect(start).rejects.toBeInstanceOf(StackStartError);
      await expect(start).rejects.toThrow(/^api failed to start: it exited/);
      expect(failures).toHaveLength(1);
      expect(runner.proc("web-1").pid).toBeUndefined();
      expect(runner.running()).toEqual(["db"]);
    } finally {
      await runner.stopAll();
    }
  });

  test("an aborted start ends at its next step with Cancelled, starting nothing more", async () => {
    const runner = await runnerOf([service("db", []), service("api", ["db"])]);
    const cancel = new AbortController();
    try {
      await expect(
        runner.startAll({
          cancel: cancel.signal,
          onGroup: (names) => names.includes("db") && cancel.abort(),
        }),
      ).rejects.toBeInstanceOf(Cancelled);
      expect(runner.proc("api").pid).toBeUndefined();
    } finally {
      await runner.stopAll();
    }
  });
});

/** Waits until `check` holds, or fails after `ms`. */
async function until(check: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms:\n${said.join("\n")}`);
    await Bun.sleep(20);
  }
}

const serves = async (def: ServiceDef) => {
  const url = (def.probes[0] as { http: string }).http;
  return (await fetch(url).then((r) => r.text(), () => "down")) === "ok";
};

describe("restart: unless-stopped", () => {
  test(
    "a service that dies on its own (SIGKILL from outside) is started again and serves; the log says so",
    async () => {
      said.length = 0;
      const web = await service("web-1", []);
      const runner = await runnerOf([Promise.resolve(web)]);
      try {
        await runner.startAll();
        const first = runner.proc("web-1").pid!;
        process.kill(first, "SIGKILL");
        await until(() => runner.proc("web-1").pid !== undefined && runner.proc("web-1").pid !== first);
        await until(() => said.some((l) => l.includes("web-1 restarted")));
        expect(await serves(web)).toBe(true);
        expect(said).toContainEqual("web-1: [launcher] web-1 exited unexpectedly (signal SIGKILL)");
        expect(said.find((l) => l.includes("restarting web-1 in"))).toContain(
          "restarting web-1 in 0.1 s (as compose's restart: unless-stopped",
        );
      } finally {
        await runner.stopAll();
      }
      expect(runner.running()).toEqual([]);
    },
    20_000,
  );

  test(
    "what stop() or kill() ended stays down until started again; start() brings it back, kept again",
    async () => {
      said.length = 0;
      const runner = await runnerOf([service("api", []), service("web-1", []), service("web-2", [])]);
      try {
        await runner.startAll();
        await runner.stop("api");
        runner.kill("web-1", "SIGKILL");
        await runner.proc("web-1").exited;
        // A pause is not an end: web-2 is still kept.
        runner.kill("web-2", "SIGSTOP");
        runner.kill("web-2", "SIGCONT");
        await Bun.sleep(RESTART_BACKOFF.firstMs * 5);
        expect(runner.running()).toEqual(["web-2"]);
        expect([runner.restarting("api"), runner.restarting("web-1")]).toEqual([false, false]);
        expect(said).toContainEqual(
          "web-1: [launcher] SIGKILL sent by the stack's kill(): not restarted until started again",
        );

        // Started again (as a failure test's restore does), it is kept again.
        await runner.start("web-1");
        const pid = runner.proc("web-1").pid!;
        process.kill(pid, "SIGKILL");
        await until(() => runner.proc("web-1").pid !== undefined && runner.proc("web-1").pid !== pid);
        process.kill(runner.proc("web-2").pid!, "SIGKILL");
        await until(() =>
          runner.running().includes("web-2") && said.some((l) => l.includes("web-2 restarted"))
        );
      } finally {
        await runner.stopAll();
      }
      expect(runner.running()).toEqual([]);
    },
    20_000,
  );

  test(
    "one that keeps exiting is restarted with a doubling delay; stop() calls the next restart off",
    async () => {
      said.length = 0;
      // Healthy for a moment, then gone: over and over.
      const flaky = await service("cache", [], false, "SERVE; setTimeout(() => process.exit(1), 150)");
      const runner = await runnerOf([Promise.resolve(flaky)]);
      try {
        await runner.startAll();
        await until(() => said.filter((l) => l.includes("restarting cache in")).length >= 3, 10_000);
        const delays = said.filter((l) => l.includes("restarting cache in")).map((l) =>
          Number(l.match(/in ([\d.]+) s/)![1])
        );
        expect(delays.slice(0, 3)).toEqual([0.1, 0.2, 0.4]);
      } finally {
        await runner.stopAll();
      }
      const pids = said.filter((l) => l.startsWith("cache: [launcher] started, pid")).length;
      await Bun.sleep(1000);
      expect(runner.running()).toEqual([]);
      expect(runner.restarting("cache")).toBe(false);
      // Nothing was started after the stop.
      expect(said.filter((l) => l.startsWith("cache: [launcher] started, pid")).length).toBe(pids);
    },
    20_000,
  );

  test(
    "a restart that fails is said and tried again later; a stop during the wait leaves nothing running",
    async () => {
      said.length = 0;
      const marker = path.join(dir, "broken-now");
      // Serves until the marker exists; from then on it exits at once.
      const def = await service(
        "admin-api",
        [],
        false,
        `if (require("node:fs").existsSync(${JSON.stringify(marker)})) process.exit(3); SERVE`,
      );
      const runner = await runnerOf([Promise.resolve(def)]);
      try {
        await runner.startAll();
        await Bun.write(marker, "");
        process.kill(runner.proc("admin-api").pid!, "SIGKILL");
        await until(() => said.filter((l) => l.includes("restarting admin-api failed")).length >= 2);
        expect(said.find((l) => l.includes("restarting admin-api failed"))).toContain(
          "admin-api failed to start: it exited",
        );
        expect(runner.restarting("admin-api")).toBe(true);
      } finally {
        await runner.stopAll();
      }
      expect(runner.restarting("admin-api")).toBe(false);
      await Bun.sleep(500);
      expect(runner.running()).toEqual([]);
    },
    20_000,
  );
});
