// bun bench/src/profile.ts [home|product|product-off|orders] [seconds]
// Where the CPU goes in each tier: the bench's local stack (ports 61xxx) with web-1, api and
// the bridge under `bun --cpu-prof-md`, wrk at 32 connections on one request kind,
// then the profiles' markdown in .local/bench-profile/. Not part of the report.
import path from "node:path";
import { REPO_ROOT, stopOnSignals, stopRequests } from "../../local/src/index.ts";
import { startBenchStack } from "./stack.ts";
import { KNOWN_TOYS } from "../../client/src/session.ts";
import { getEach, postJson, wrk } from "./wrk.ts";
import { storeAdmin } from "./store.ts";
import { sampled } from "./procs.ts";

const [scenario = "product", seconds = "5"] = process.argv.slice(2);
const dir = path.join(REPO_ROOT, ".local/bench-profile");
const prof = (
  entry: string,
  name: string,
) => [
  process.execPath,
  "--cpu-prof-md",
  `--cpu-prof-dir=${dir}`,
  `--cpu-prof-name=${name}-${scenario}.md`,
  entry,
];
// Ctrl-C or SIGTERM, also mid-start: the stack stops and the process ends (130, 143).
const requests = stopRequests();
const starting = startBenchStack({
  signal: requests.signal,
  appEnv: scenario === "product-off" ? { CACHE_ENABLED: "false" } : {},
  commands: {
    "web-1": prof("web/src/main.ts", "web-1"),
    api: prof("api/src/main.ts", "api"),
    cache: prof("bridge/src/main.ts", "bridge"),
  },
});
stopOnSignals(requests, starting);
const stack = await starting;
try {
  const admin = storeAdmin(stack);
  const items = ["Bench 1", "Bench 2", "Bench 3", "Bench 4"];
  for (const n of items) await admin.setStock(n, 1_000_000);
  const script = scenario === "home"
    ? undefined
    : scenario === "orders"
    ? postJson("/orders", items.map((name) => JSON.stringify({ name, quantity: 1 })))
    : getEach(KNOWN_TOYS.map((t) => `/products/${t}`));
  const url = scenario === "home" ? `${stack.urls.store}/` : stack.urls.store;
  await wrk(url, { connections: 8, seconds: 2, script });
  const pids = () => Object.fromEntries(stack.services.map((s) => [s, stack.pid(s)]));
  const { result, cpu } = await sampled(
    pids,
    () => wrk(url, { connections: 32, seconds: Number(seconds), script }),
  );
  console.log(
    `${scenario}: ${
      result.rps.toFixed(0)
    } req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`,
  );
  console.log("CPU seconds:", JSON.stringify(cpu));
} finally {
  await stack.stop();
}
console.log(`profiles in ${path.relative(REPO_ROOT, dir)}/`);
