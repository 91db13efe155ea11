// bun run bench: the store on its own local stack, loaded with wrk through HAProxy,
// beside the ceiling (the same HAProxy config in front of two fixed-page servers);
// then the lab's evaluation with the load client, cache on and off; then
// docs/performance.md. See options.ts for the flags.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runClient } from "../../client/src/index.ts";
import { KNOWN_TOYS } from "../../client/src/session.ts";
import { publicOrderNumber } from "../../lib/src/order-number.ts";
import { REPO_ROOT } from "../../local/src/config.ts";
import {
  type Ports,
  signalExitCode,
  type Stack,
  StartInterrupted,
  stopRequests,
  whenAborted,
} from "../../local/src/stack.ts";
import { type Ceiling, startCeiling } from "./ceiling.ts";
import { type BenchOptions, parseOptions, type ScenarioKey, USAGE } from "./options.ts";
import { type Pids, sampled, snapshotKb } from "./procs.ts";
import { machine } from "./machine.ts";
import { type Batching, type EvalRow, type Results, type Run, writeReport } from "./report.ts";
import { OFFSET, PORTS, startBenchStack } from "./stack.ts";
import { storeAdmin } from "./store.ts";
import { getEach, postJson, type Script, wrk } from "./wrk.ts";

// The ceiling's HAProxy and fixed-page servers, beside the stack's.
const CEILING_PORTS: Ports = {
  ...PORTS,
  store: OFFSET + 8180,
  stats: OFFSET + 8504,
  web1: OFFSET + 8183,
  web2: OFFSET + 8184,
  admin1: OFFSET + 8183,
  admin2: OFFSET + 8184,
};
// Purchases spread over several items, as a shop's do (one hot row would serialise
// every order on its lock, each waiting for the commit before it to reach the disk).
const BENCH_ITEMS = Array.from({ length: 8 }, (_, i) => `Bench ${i + 1}`);
const FULL_STOCK = 1_000_000;

const say = (s: string) => process.stderr.write(`${s}\n`);

async function main(options: BenchOptions) {
  const dataDir = path.join(REPO_ROOT, ".local/bench");
  // Ctrl-C or SIGTERM at any moment: during the stack's start, startStack stops what
  // it started (and rejects with StartInterrupted); later, both stacks are stopped
  // here. Then the exit is 130 (SIGINT) or 143 (SIGTERM). A later second one forces.
  const requests = stopRequests();
  say(`starting the stack (ports ${PORTS.store}…, data ${path.relative(REPO_ROOT, dataDir)}, fresh)…`);
  const stack = await startBenchStack({ dataDir, signal: requests.signal });
  // The ceiling's start is waited for before it is stopped: its processes exist from its first step.
  let ceiling: Promise<Ceiling | undefined> = Promise.resolve(undefined);
  whenAborted(requests.signal, async (reason) => {
    say(`${reason}: stopping…`);
    await (await ceiling.catch(() => undefined))?.stop();
    await stack.stop();
    process.exit(signalExitCode(reason));
  });
  try {
    const page = new Uint8Array(await (await fetch(`${stack.urls.store}/`)).arrayBuffer());
    // Stopping already: the handler above stops the stack and exits; no ceiling behind its back.
    if (requests.signal.aborted) return;
    ceiling = startCeiling({ ports: CEILING_PORTS, page, dataDir });
    const started = (await ceiling)!;
    const results = await measure(options, stack, started, page.length);
    const out = path.resolve(REPO_ROOT, options.out);
    writeReport(out, results);
    mkdirSync(path.join(dataDir), { recursive: true });
    writeFileSync(path.join(dataDir, "results.json"), JSON.stringify(results, null, 2));
    say(
      `wrote ${path.relative(REPO_ROOT, out)} (raw figures in ${
        path.relative(REPO_ROOT, dataDir)
      }/results.json)`,
    );
  } finally {
    await (await ceiling.catch(() => undefined))?.stop();
    await stack.stop();
  }
}

async function measure(
  options: BenchOptions,
  stack: Stack,
  ceiling: Ceiling,
  pageBytes: number,
): Promise<Results> {
  const admin = storeAdmin(stack);
  const store = stack.urls.store;
  const pids: Pids = () => ({
    ...Object.fromEntries(stack.services.map((s) => [s, stack.pid(s)])),
    "bench (launcher)": process.pid,
    ...ceiling.pids(),
  });
  const started = new Date();
  const loadBefore = machine().load;

  for (const name of BENCH_ITEMS) await admin.setStock(name, FULL_STOCK);
  for (const name of KNOWN_TOYS) await admin.setStock(name, FULL_STOCK);

  const productPaths = KNOWN_TOYS.map((t) => `/products/${t}`);
  const orderBodies = BENCH_ITEMS.map((name) => JSON.stringify({ name, quantity: 1 }));
  let lookupPaths: string[] = [];
  const firstOrder = await admin.lastOrderNumber();
  const peakKb: Record<string, number> = {};
  const cpuByScenario: Record<string, Record<string, number>> = {};
  const runs: Run[] = [];
  const batching: Batching[] = [];
  // The coalesced checks' counters (/healthz of each web server and of the api).
  type Counts = { requests: number; checks: number };
  const counts = async (urls: string[]): Promise<Counts> => {
    const all = await Promise.all(urls.map(async (u) => {
      const { data } = (await (await fetch(`${u}/healthz`)).json()) as { data: { revalidation?: Counts } };
      return data.revalidation ?? { requests: 0, checks: 0 };
    }));
    return all.reduce((a, b) => ({ requests: a.requests + b.requests, checks: a.checks + b.checks }));
  };
  const checkCounts = () => Promise.all([counts(stack.urls.web), counts([stack.urls.api])]);
  const minus = (a: Counts, b: Counts) => ({
    requests: a.requests - b.requests,
    checks: a.checks - b.checks,
  });

  const load = async (
    scenario: ScenarioKey | "ceiling",
    url: string,
    connections: number,
    script?: Script,
  ): Promise<void> => {
    const counted = scenario === "home" || scenario === "product";
    const before = counted ? await checkCounts() : undefined;
    const { result, peakKb: peak, cpu } = await sampled(
      pids,
      () => wrk(url, { connections, seconds: options.seconds, script }),
    );
    if (before) {
      const after = await checkCounts();
      const b = { scenario, connections, web: minus(after[0], before[0]), api: minus(after[1], before[1]) };
      batching.push(b);
      const factor = (x: Counts) => (x.requests / Math.max(1, x.checks)).toFixed(1);
      say(
        `  ${scenario.padEnd(12)} c=${String(connections).padStart(3)}  requests per check: web ${
          factor(b.web)
        }, api ${factor(b.api)}`,
      );
    }
    for (const [n, kb] of Object.entries(peak)) peakKb[n] = Math.max(peakKb[n] ?? 0, kb);
    if (connections === 32) cpuByScenario[scenario] = cpu;
    runs.push({ scenario, ...result });
    // CPU per request is steadier than throughput on a shared machine: it says what a fix saved.
    const perRequest = (names: string[]) =>
      Math.round((names.reduce((t, n) => t + (cpu[n] ?? 0), 0) / Math.max(1, result.requests)) * 1e6);
    const tiers = ["web-1", "web-2", "api", "cache", "redis", "db", "proxy", "bench (launcher)"].map((n) =>
      `${n.replace(" (launcher)", "")} ${perRequest([n])}`
    ).join(", ");
    say(
      `  ${scenario.padEnd(12)} c=${String(connections).padStart(3)}  ${
        result.rps.toFixed(0).padStart(6)
      } req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${
        result.p99.toFixed(2)
      } ms  errors ${result.errors}  CPU µs/request: ${perRequest(Object.keys(cpu))} (${
        scenario === "ceiling" ? "" : tiers
      })`,
    );
  };

  // Warm up: JIT, connection pools, the cache.
  say("warming up…");
  await wrk(`${store}/`, { connections: 8, seconds: 2 });
  await wrk(store, { connections: 8, seconds: 2, script: getEach(productPaths) });
  await wrk(`${ceiling.url}/`, { connections: 8, seconds: 1 });
  await Bun.sleep(1000);
  const idleKb = snapshotKb(pids);

  // Cache off: the api restarted with CACHE_ENABLED=false (every read goes to MariaDB).
  // The other writers still clear the cache meanwhile, so turning it back on is safe.
  let cacheOn = true;
  const switchCache = async (on: boolean) => {
    if (on === cacheOn) return;
    stack.setEnv("api", { CACHE_ENABLED: on ? undefined : "false" });
    await stack.restart("api");
    await settle(store, productPaths);
    cacheOn = on;
  };

  const want = (s: ScenarioKey) => options.only.includes(s);
  say(`load: ${options.seconds} s per run, connections ${options.connections.join(", ")}`);
  for (const c of options.connections) {
    await load("ceiling", `${ceiling.url}/`, c);
    if (want("home")) await load("home", `${store}/`, c);
    // The same read with the cache on and off, one right after the other.
    if (want("product")) await load("product", store, c, getEach(productPaths));
    if (want("product-off")) {
      await switchCache(false);
      await load("product-off", store, c, getEach(productPaths));
      await switchCache(true);
    }
    if (want("orders")) await load("orders", store, c, postJson("/orders", orderBodies));
    if (want("lookup")) {
      if (lookupPaths.length === 0) {
        const numbers = await admin.orderNumbers(firstOrder, 2000);
        if (numbers.length === 0) await placeSomeOrders(store, orderBodies);
        // The database's keys, looked up by the numbers the store gives out.
        lookupPaths = (await admin.orderNumbers(firstOrder, 2000)).map((key) =>
          `/orders/${publicOrderNumber(key)}`
        );
      }
      await load("lookup", store, c, getEach(lookupPaths));
    }
  }

  // Every order acknowledged is in the database, and the stock went down by exactly its units.
  const orders = await checkOrders(admin, firstOrder);
  const scarce = want("orders") ? await oversellCheck(admin, store, options.seconds) : null;

  const evaluation: EvalRow[] = [];
  const ps = [0, 0.2, 0.4, 0.6, 0.8, 1];
  // The lab's evaluation: for each p, the client with the cache on, then off.
  if (options.evaluation) {
    for (const p of ps) {
      for (const cache of ["on", "off"] as const) {
        await switchCache(cache === "on");
        for (const name of KNOWN_TOYS) await admin.setStock(name, FULL_STOCK);
        const r = await runClient({
          url: store,
          sessions: 16,
          p,
          seed: 42,
          duration: options.evalSeconds,
          quiet: true,
        });
        evaluation.push({
          cache,
          p,
          query: r.requests.query.latency_ms,
          buy: r.requests.buy.latency_ms,
          queries: r.requests.query.count,
          buys: r.requests.buy.count,
          errors: r.total.error_count,
          mismatches: r.orders.mismatched,
          ok: r.ok,
          throughput: r.total.throughput_per_s,
        });
        say(
          `  eval cache ${cache} p=${p}: query p50 ${r.requests.query.latency_ms.p50} ms, buy p50 ${
            r.requests.buy.latency_ms.p50 ?? "-"
          } ms, ${r.ok ? "ok" : r.failures.join("; ")}`,
        );
      }
    }
    await switchCache(true);
  }

  return {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    seconds: options.seconds,
    connections: options.connections,
    machine: { ...machine(), loadBefore },
    tools: await tools(),
    pageBytes,
    benchItems: BENCH_ITEMS,
    runs,
    batching,
    orders,
    oversell: scarce,
    evaluation,
    rss: { idleKb, loadKb: peakKb },
    cpuAt32: cpuByScenario,
  };
}

/** After a restart the web tier's pooled connections to the old api may fail once; let them. */
async function settle(store: string, paths: string[]) {
  for (let i = 0; i < 50; i++) {
    await fetch(`${store}${paths[i % paths.length]}`).then((r) => r.arrayBuffer(), () => {});
  }
}

async function placeSomeOrders(store: string, bodies: string[]) {
  for (const body of bodies) {
    await fetch(`${store}/orders`, { method: "POST", headers: { "content-type": "application/json" }, body });
  }
}

async function checkOrders(admin: ReturnType<typeof storeAdmin>, after: number) {
  // Purchases still in flight when wrk stopped finish on their own: let them land first.
  await Bun.sleep(2000);
  const r = await admin.stockAndOrders(BENCH_ITEMS, after);
  const stockDrop = FULL_STOCK * BENCH_ITEMS.length - r.stock;
  const ok = r.lowest >= 0 && stockDrop === r.units;
  say(
    `orders: ${r.count} placed (${r.units} units), stock went down by ${stockDrop}: ${
      ok ? "consistent" : "MISMATCH"
    }`,
  );
  return { placed: r.count, units: r.units, stockDrop, ok };
}

/** Many buyers for a little stock: exactly the stock is sold, every other order is 409, none below zero. */
async function oversellCheck(admin: ReturnType<typeof storeAdmin>, store: string, seconds: number) {
  const name = "Bench Scarce";
  const stock = 500;
  await admin.setStock(name, stock);
  const after = await admin.lastOrderNumber();
  const r = await wrk(store, {
    connections: 32,
    seconds: Math.min(seconds, 3),
    script: {
      ...postJson("/orders", [JSON.stringify({ name, quantity: 1 })]),
      ok: (s) => s === 200 || s === 409,
    },
  });
  await Bun.sleep(1000);
  const final = await admin.stock(name);
  const placed = await admin.ordersSince([name], after);
  const sold = r.statuses["200"] ?? 0;
  const ok = sold === stock && final === 0 && placed.units === stock && r.errors === 0;
  say(
    `oversell check: stock ${stock}, ${sold} ok answers, ${
      r.statuses["409"] ?? 0
    } × 409, ${placed.count} orders in the database, final stock ${final}: ${ok ? "ok" : "FAILED"}`,
  );
  return {
    stock,
    okAnswers: sold,
    refused: r.statuses["409"] ?? 0,
    ordersInDb: placed.count,
    finalStock: final,
    errors: r.errors,
    ok,
  };
}

async function tools() {
  const version = async (cmd: string[]) => {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
    const [o, e] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    return (o + e).split("\n")[0]!.trim();
  };
  return {
    wrk: (await version(["wrk", "--version"])).replace(/\s*Copyright.*$/, ""),
    haproxy: await version(["haproxy", "-v"]),
    bun: Bun.version,
  };
}

const parsed = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (err) {
    say(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (parsed === "help") {
  console.log(USAGE);
} else if (parsed.from) {
  writeReport(
    path.resolve(REPO_ROOT, parsed.out),
    JSON.parse(readFileSync(path.resolve(REPO_ROOT, parsed.from), "utf8")) as Results,
  );
  say(`wrote ${parsed.out} from ${parsed.from}`);
} else {
  await main(parsed).catch((err) => {
    if (!(err instanceof StartInterrupted)) throw err;
    say(err.message);
    process.exit(signalExitCode(err.reason));
  });
}
