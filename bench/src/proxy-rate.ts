// bun bench/src/proxy-rate.ts [connections] [seconds] [µs,µs,…]
// What HAProxy costs per request as a function of its backends' speed alone: the
// ceiling (the same proxy/haproxy.cfg before two fixed-page servers, 12 kB pages) with
// each server spending the given µs of CPU per answer (default 0,60,120), wrk at
// `connections` (32) for `seconds` (5) each. The store's proxy costs about 3× the
// ceiling's per request with the same cfg; this shows how much of that its slower
// backends (a lower rate: fewer requests per wake-up) explain with no change of cfg
// (docs/performance-notes.md, What each request still costs). Uses the ceiling's
// ports: not while `bun run bench` runs. Not part of the report.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../local/src/index.ts";
import { startCeiling } from "./ceiling.ts";
import { cpuSeconds } from "./procs.ts";
import { BENCH_PORTS, CEILING_PORTS, checkBenchPorts } from "./stack.ts";
import { wrk } from "./wrk.ts";

const [connections = "32", seconds = "5", costs = "0,60,120"] = process.argv.slice(2);
const dataDir = path.join(REPO_ROOT, ".local/bench-proxy-rate");
mkdirSync(dataDir, { recursive: true });
const ceilingPorts = new Set(Object.values(CEILING_PORTS));
await checkBenchPorts(BENCH_PORTS.filter((p) => ceilingPorts.has(p.port)));
const page = new TextEncoder().encode(`<!DOCTYPE html><p>${"x".repeat(12_000)}</p>`);

console.log(`connections ${connections}, ${seconds} s each; µs of CPU per request`);
for (const cost of costs.split(",").map(Number)) {
  const ceiling = await startCeiling({ ports: CEILING_PORTS, page, dataDir, serverCostUs: cost });
  try {
    const opts = { connections: Number(connections), seconds: Number(seconds) };
    await wrk(ceiling.url, { ...opts, seconds: 1 }); // warm: connections to the servers made
    const pids = ceiling.pids();
    const cpu = () =>
      Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid!) ?? 0]));
    const before = cpu();
    const result = await wrk(ceiling.url, opts);
    const after = cpu();
    const perRequest = (name: string) => ((after[name]! - before[name]!) * 1e6 / result.requests).toFixed(1);
    console.log(
      `server cost ${cost} µs: ${result.rps.toFixed(0)} req/s; HAProxy ${perRequest("ceiling-proxy")}, ` +
        `each server ${perRequest("ceiling-1")} / ${perRequest("ceiling-2")}`,
    );
  } finally {
    await ceiling.stop();
  }
}
