// Test fixtures: a throw-away redis-server on a free port (no persistence) and the
// bridge in front of it. These tests start a real redis-server, so they live under
// tests/ (not beside the bridge's code, where `bun test` runs units only).
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { createBridge } from "../../bridge/src/app.ts";
import { Redis } from "../../bridge/src/redis.ts";
import { PROGRAMS, requirePrograms } from "../../local/src/index.ts";

// Found (or installed, as root on Debian) at import, never in a hook with a timeout.
const { redis: REDIS_SERVER } = await requirePrograms({ redis: PROGRAMS.redis }, {
  log: (line) => console.error(`[tests/bridge] ${line}`),
});

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

export class RedisServer {
  private proc: ReturnType<typeof Bun.spawn> | undefined;
  private constructor(readonly port: number, private readonly dir: string) {}

  static async start() {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), "bridge-redis-")));
    await server.resume();
    return server;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start (again) on the same port. */
  async resume() {
    this.proc = Bun.spawn([
      REDIS_SERVER,
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ], {
      stdout: "ignore",
      stderr: "inherit",
    });
    for (let i = 0; i < 200; i++) {
      if (await canConnect(this.port)) return;
      await Bun.sleep(25);
    }
    throw new Error("redis-server did not start");
  }

  async stop() {
    const proc = this.proc;
    this.proc = undefined;
    proc?.kill("SIGKILL");
    await proc?.exited;
  }

  /** Freeze the process: connections stay open but nothing answers. */
  pause(frozen: boolean) {
    this.proc?.kill(frozen ? "SIGSTOP" : "SIGCONT");
  }

  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const TOKEN = "bridge-test-token";

/**
 * A throw-away redis-server and the bridge in front of it for the tests of one file,
 * started before them and stopped after them. Read `.server` / `.bridge` in tests.
 */
export function useBridge(timeoutMs?: number) {
  const ctx = {} as { server: RedisServer; bridge: ReturnType<typeof startBridge> };
  beforeAll(async () => {
    ctx.server = await RedisServer.start();
    ctx.bridge = startBridge(ctx.server.url, timeoutMs);
  });
  afterAll(async () => {
    await ctx.bridge?.close();
    await ctx.server?.close();
  });
  return ctx;
}

/** The bridge on a free port, in this process. */
export function startBridge(redisUrl: string, timeoutMs = 1000) {
  const redis = new Redis({ url: redisUrl, timeoutMs });
  const app = createBridge({ redis, token: TOKEN, log: () => {} });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  return {
    url: `http://127.0.0.1:${server.port}`,
    redis,
    async close() {
      await server.stop(true);
      redis.close();
    },
  };
}
