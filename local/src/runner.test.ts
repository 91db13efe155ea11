// The services started by levels and stopped in reverse, on small real processes
// (bun serving one port each): the order, the steps around a start, a failure.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./config.ts";
import type { LogSink } from "./log-sinks.ts";
import { Cancelled, Runner, StackStartError } from "./runner.ts";
import type { ServiceDef, ServiceName } from "./services.ts";

const dir = mkdtempSync(path.join(tmpdir(), "local-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events: string[] = [];
const sink: LogSink = { line: () => {}, close: async () => {} };

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A service that serves 200 on a free port once started (or exits at once when `broken`). */
async function service(name: ServiceName, level: number, broken = false): Promise<ServiceDef> {
  const port = await freePort();
  const script = broken
    ? "process.exit(3)"
    : `Bun.serve({ port: ${port}, hostname: "127.0.0.1", fetch: () => new Response("ok") })`;
  return {
    name,
    level,
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

describe("startLevels", () => {
  test("a level starts once the one before is healthy; stopLevels stops the last level first; a second startLevels starts what is not running", async () => {
    events.length = 0;
    const runner = await runnerOf([
      service("db", 0),
      service("api", 1),
      service("web-1", 2),
      service("web-2", 2),
    ]);
    const levels: ServiceName[][] = [];
    try {
      await runner.startLevels({ onLevel: (names) => levels.push(names) });
      expect(levels).toEqual([["db"], ["api"], ["web-1", "web-2"]]);
      expect(events.slice(0, 4)).toEqual(["before db", "healthy db", "before api", "healthy api"]);
      expect(runner.running()).toEqual(["web-1", "web-2", "api", "db"]);

      await runner.stop("api");
      levels.length = 0;
      await runner.startLevels({ onLevel: (names) => levels.push(names) });
      expect(levels).toEqual([["api"]]);
    } finally {
      await runner.stopLevels();
    }
    expect(runner.running()).toEqual([]);
  });

  test("a service that exits while starting fails the start naming it, and the next level is not begun", async () => {
    const runner = await runnerOf([service("db", 0), service("api", 1, true), service("web-1", 2)]);
    const failures: unknown[] = [];
    const start = runner.startLevels({ onFailure: (err) => failures.push(err) });
    try {
      await expect(start).rejects.toBeInstanceOf(StackStartError);
      await expect(start).rejects.toThrow(/^api failed to start: it exited/);
      expect(failures).toHaveLength(1);
      expect(runner.proc("web-1").pid).toBeUndefined();
      expect(runner.running()).toEqual(["db"]);
    } finally {
      await runner.stopLevels();
    }
  });

  test("an aborted start ends at its next step with Cancelled, starting nothing more", async () => {
    const runner = await runnerOf([service("db", 0), service("api", 1)]);
    const cancel = new AbortController();
    try {
      await expect(
        runner.startLevels({
          cancel: cancel.signal,
          onLevel: (names) => names.includes("db") && cancel.abort(),
        }),
      ).rejects.toBeInstanceOf(Cancelled);
      expect(runner.proc("api").pid).toBeUndefined();
    } finally {
      await runner.stopLevels();
    }
  });
});
