// The bench's ports: outside the kernel's ephemeral range and every test stack's,
// and one taken is named before anything starts.
import { describe, expect, test } from "bun:test";
import net from "node:net";
import path from "node:path";
import { MAX_SERVERS, nodePorts, plannedPorts, PORT_PLAN } from "../../local/src/index.ts";
import { harnessDbPort } from "../../testutil/src/route-harness.ts";
import { PORT_TRIES } from "../../testutil/src/throwaway-db.ts";
import {
  BENCH_PORTS,
  BenchPortsTaken,
  checkBenchPorts,
  CLUSTER_NODES,
  ephemeralRange,
  PORTS,
  STACK_PORTS,
} from "./stack.ts";

describe("the bench's ports", () => {
  const ports = BENCH_PORTS.map((p) => p.port);

  test("none in Linux's default ephemeral range (32768–60999), nor in this machine's", () => {
    const [low, high] = ephemeralRange();
    for (const port of ports) {
      expect(port < 32768 || port > 60999, String(port)).toBe(true);
      expect(port < low || port > high, `${port} in this machine's ${low}–${high}`).toBe(true);
      expect(port).toBeLessThanOrEqual(65535);
    }
    expect(new Set(ports).size).toBe(ports.length);
  });

  test("none of another stack's in PORT_PLAN (with the most servers), nor the route harness's, nor compose's default 80", () => {
    const most = { web: MAX_SERVERS, admin: MAX_SERVERS };
    const stacks = (Object.keys(PORT_PLAN) as (keyof typeof PORT_PLAN)[]).filter((n) =>
      !["bench", "ceiling"].includes(n)
    );
    // The route harness's MariaDB beside each stack placed by offset (the ports it tries).
    const harness = stacks.flatMap((n) => {
      const place: { offset?: number; base?: number } = PORT_PLAN[n];
      return Array.from({ length: PORT_TRIES }, (_, i) => harnessDbPort(place.offset ?? 0) + i);
    });
    const others = new Set([80, ...harness, ...stacks.flatMap((n) => Object.values(plannedPorts(n, most)))]);
    expect(ports.filter((p) => others.has(p))).toEqual([]);
  });

  test("the three-node run's nodes (SQL, replication, transfers, probe) are among them, checked with the stack's", () => {
    for (let n = 1; n <= CLUSTER_NODES; n++) {
      for (const port of Object.values(nodePorts(PORTS.db, n))) {
        expect(ports).toContain(port);
        expect(STACK_PORTS.map((p) => p.port)).toContain(port);
      }
    }
  });

  test("one taken is refused naming the port and what it is for, before anything starts", async () => {
    const store = BENCH_PORTS[0]!;
    const holder = net.createServer().listen(store.port, "127.0.0.1");
    await new Promise((resolve) => holder.once("listening", resolve));
    try {
      const check = checkBenchPorts([store, { port: 1, what: "nothing" }]);
      await expect(check).rejects.toBeInstanceOf(BenchPortsTaken);
      await expect(check).rejects.toThrow(
        `port(s) already in use: ${store.port} (the bench stack's store) — is another bench running?`,
      );
      // The command says so and ends: no stack trace.
      const run = Bun.spawn(
        [process.execPath, "bench/src/main.ts", "--quick", "--no-eval", "--only", "home", "--items", "0"],
        { cwd: path.resolve(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" },
      );
      const [err, code] = await Promise.all([new Response(run.stderr).text(), run.exited]);
      expect(code).toBe(1);
      expect(err).toContain(`bench: port(s) already in use: ${store.port} (the bench stack's store)`);
      expect(err).not.toMatch(/^\s+at /m);
    } finally {
      holder.close();
    }
  });
});
