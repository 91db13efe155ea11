// The machine's ceiling: the same proxy/haproxy.cfg, run as a second HAProxy, in
// front of two tiny Bun servers that return a fixed page. Whatever the store does
// beyond that costs throughput; its figures are given as a share of this one.
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  fileSink,
  haproxyEnv,
  ManagedProcess,
  type Ports,
  REPO_ROOT,
  waitFor,
  which,
} from "../../local/src/index.ts";

export type Ceiling = { url: string; pids: () => Record<string, number | undefined>; stop(): Promise<void> };

export async function startCeiling(
  opts: {
    ports: Ports;
    page: Uint8Array;
    dataDir: string;
    /** µs of CPU each fixed-page server spends per answer (bench/src/proxy-rate.ts; default 0). */
    serverCostUs?: number;
  },
): Promise<Ceiling> {
  const { ports } = opts;
  const pageFile = path.join(opts.dataDir, "ceiling-page.html");
  writeFileSync(pageFile, opts.page);
  const sink = fileSink(path.join(opts.dataDir, "logs"));
  const runDir = path.join(opts.dataDir, "run");
  const server = (name: string, port: number) =>
    new ManagedProcess(
      name,
      () => ({
        cmd: [
          process.execPath,
          "bench/src/fixed-server.ts",
          String(port),
          pageFile,
          String(opts.serverCostUs ?? 0),
        ],
        cwd: REPO_ROOT,
        env: { ...process.env },
      }),
      sink,
      runDir,
    );
  const servers = [server("ceiling-1", ports.web1), server("ceiling-2", ports.web2)];
  // The same config file, the same way the launcher runs it (its log file written by
  // HAProxy itself, through the launcher's open file: local/src/managed-process.ts).
  const proxy = new ManagedProcess(
    "ceiling-proxy",
    () => ({
      cmd: [which("haproxy")!, "-db", "-f", path.join(REPO_ROOT, "proxy/haproxy.cfg")],
      cwd: REPO_ROOT,
      env: { ...process.env, ...haproxyEnv(ports) },
    }),
    sink,
    runDir,
    { clearsAppend: true },
  );
  const all = [...servers, proxy];
  const url = `http://127.0.0.1:${ports.store}`;
  try {
    for (const s of servers) s.start();
    // One that cannot listen (its port taken since the bench checked) says so at once, naming it.
    const up = (p: ManagedProcess, probe: string) =>
      waitFor({ http: probe }, {
        timeoutMs: 10_000,
        gone: () => (p.running ? undefined : `${p.name} exited (${probe}): ${p.tail.at(-1) ?? "no output"}`),
      });
    await Promise.all(
      servers.map((s, i) => up(s, `http://127.0.0.1:${[ports.web1, ports.web2][i]}/healthz`)),
    );
    proxy.start();
    await up(proxy, `${url}/healthz`);
  } catch (err) {
    await Promise.all(all.map((p) => p.stop(3000)));
    throw err;
  }
  return {
    url,
    pids: () => Object.fromEntries(all.map((p) => [p.name, p.pid])),
    async stop() {
      await Promise.all(all.map((p) => p.stop(3000)));
      await sink.close();
    },
  };
}
