// bun run bench: the store on its own local stack, loaded with wrk through HAProxy,
// beside the ceiling (the same HAProxy config in front of two fixed-page servers);
// a price correction's staleness with admin-api cut off from Redis; what clearing a
// prefix costs in Redis; what a purchase waits for the web servers' acknowledgements
// (with the orders scenario); the lab's evaluation with the load client, cache on and off;
// then (--items) a big catalogue; then docs/performance.md. See options.ts for the flags.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runClient } from "../../client/src/index.ts";
import { KNOWN_TOYS } from "../../client/src/session.ts";
import { publicOrderNumber } from "../../lib/src/order-number.ts";
import {
  REPO_ROOT,
  signalExitCode,
  type Stack,
  StackStartError,
  StartInterrupted,
  stopRequests,
  whenAborted,
} from "../../local/src/index.ts";
import { type Ceiling, startCeiling } from "./ceiling.ts";
import { type BenchOptions, parseOptions, PUBLISHED_REPORT, type ScenarioKey, USAGE } from "./options.ts";
import { rssOver, sampled, snapshotKb, stackPids } from "./procs.ts";
import { machine } from "./machine.ts";
import {
  type Batching,
  type BigCatalogue,
  type EvalRow,
  queriesPerRead,
  type Results,
  type Run,
  writeReport,
} from "./report.ts";
import {
  BenchPortsTaken,
  CEILING_PORTS,
  CLUSTER_NODES,
  PORTS,
  STACK_PORTS,
  startBenchStack,
} from "./stack.ts";
import { measureCluster } from "./cluster.ts";
import { storeAdmin } from "./store.ts";
import { getEach, mixed, postJson, type Script, wrk } from "./wrk.ts";
import { countedSince, tierCounts, webLeases } from "./counts.ts";
import { measureStaleness, type Staleness } from "./staleness.ts";
import { measurePrefixClears, type PrefixClear } from "./prefix-clear.ts";
import { measureAcks } from "./acks.ts";
import { loadItems, luaPathFormat, sampleNames } from "./big-catalogue.ts";
import { BENCH_ITEMS, checkOrders, FULL_STOCK, ORDER_BODIES } from "./purchases.ts";
import { runLine, say, usPerRequest, usTogether } from "./say.ts";

/** The item whose price is corrected while admin-api is cut off from Redis. */
const PRICE_ITEM = "Bench Price";
/** Product reads of the big catalogue's runs: the ten toys and this many of the loaded items. */
const BIG_SAMPLE = 990;

async function main(options: BenchOptions) {
  const dataDir = path.join(REPO_ROOT, ".local/bench");
  // Ctrl-C or SIGTERM at any moment: during a stack's start, startStack stops what
  // it started (and rejects with StartInterrupted); later, every stack is stopped
  // here. Then the exit is 130 (SIGINT) or 143 (SIGTERM). A later second one forces.
  const requests = stopRequests();
  say(`starting the stack (ports ${PORTS.store}…, data ${path.relative(REPO_ROOT, dataDir)}, fresh)…`);
  const stack = await startBenchStack({ dataDir, signal: requests.signal });
  // The ceiling's start is waited for before it is stopped: its processes exist from its first step.
  let ceiling: Promise<Ceiling | undefined> = Promise.resolve(undefined);
  // --cluster: the stack with three database nodes, on the same ports once the first is stopped.
  let threeNodes: Promise<Stack | undefined> = Promise.resolve(undefined);
  const stopAll = async () => {
    await (await ceiling.catch(() => undefined))?.stop();
    await stack.stop();
    await (await threeNodes.catch(() => undefined))?.stop();
  };
  whenAborted(requests.signal, async (reason) => {
    say(`${reason}: stopping…`);
    await stopAll();
    process.exit(signalExitCode(reason));
  });
  try {
    const page = new Uint8Array(await (await fetch(`${stack.urls.store}/`)).arrayBuffer());
    // Stopping already: the handler above stops the stack and exits; no ceiling behind its back.
    if (requests.signal.aborted) return;
    ceiling = startCeiling({ ports: CEILING_PORTS, page, dataDir });
    const started = (await ceiling)!;
    const results = await measure(options, stack, started, page.length);
    const raw = path.join(dataDir, "results.json");
    const saveRaw = () => {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(raw, JSON.stringify(results, null, 2));
    };
    if (options.cluster) {
      // The one-node figures are kept should the three-node run fail (--from writes their report).
      saveRaw();
      await stack.stop();
      if (requests.signal.aborted) return;
      const clusterDir = path.join(REPO_ROOT, ".local/bench-cluster");
      say(
        `starting the stack with ${CLUSTER_NODES} database nodes (data ${
          path.relative(REPO_ROOT, clusterDir)
        }, fresh)…`,
      );
      const t0 = performance.now();
      threeNodes = startBenchStack(
        { dataDir: clusterDir, dbNodes: CLUSTER_NODES, signal: requests.signal },
        STACK_PORTS,
      );
      const three = (await threeNodes)!;
      results.cluster = await measureCluster(
        three,
        options,
        Math.round(performance.now() - t0) / 1000,
        requests.signal,
      );
      results.finishedAt = new Date().toISOString();
    }
    const out = path.resolve(REPO_ROOT, options.out);
    writeReport(out, results);
    saveRaw();
    say(
      `wrote ${path.relative(REPO_ROOT, out)} (raw figures in ${path.relative(REPO_ROOT, raw)})${
        wroteWhere(options)
      }`,
    );
  } finally {
    await stopAll();
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
  const pids = stackPids(stack, ceiling.pids);
  const started = new Date();
  const loadBefore = machine().load;

  for (const name of BENCH_ITEMS) await admin.setStock(name, FULL_STOCK);
  for (const name of KNOWN_TOYS) await admin.setStock(name, FULL_STOCK);

  const productPaths = KNOWN_TOYS.map((t) => `/products/${t}`);
  const orderBodies = ORDER_BODIES;
  let lookupPaths: string[] = [];
  const firstOrder = await admin.lastOrderNumber();
  const peakKb: Record<string, number> = {};
  const cpuByScenario: Record<string, Record<string, number>> = {};
  const runs: Run[] = [];
  const batching: Batching[] = [];
  // The web servers' coalesced checks and the api's catalogue reads (each one's /healthz).
  const counts = () => tierCounts(stack.urls.web, stack.urls.api);

  /** One wrk run, with each process's peak memory and CPU, and what the tiers counted during it. */
  const measured = async (
    scenario: ScenarioKey | "ceiling" | "product-spread",
    url: string,
    connections: number,
    script?: Script,
  ) => {
    const before = scenario === "ceiling" ? undefined : await counts();
    const { result, peakKb: peak, cpu } = await sampled(
      pids,
      () => wrk(url, { connections, seconds: options.seconds, script }),
    );
    // The api counts a read when it begins, and its hit or queries when it ends: let the last ones end.
    if (before) await Bun.sleep(200);
    const b: Batching | undefined = before &&
      { scenario, connections, ...countedSince(await counts(), before) };
    if (b) {
      const c = b.catalog!;
      const ratio = (x: number) => (c.reads ? (x / c.reads).toFixed(4) : "–");
      say(
        `  ${scenario.padEnd(12)} c=${
          String(connections).padStart(3)
        }  from memory ${b.fromMemory}, requests per check: web ${
          (b.web.requests / Math.max(1, b.web.checks)).toFixed(1)
        }; api: ${c.reads} catalogue reads, hit ratio ${ratio(c.hits)}, MySQL queries per read ${
          ratio(c.db_queries)
        } (${c.untrusted} untrusted; relay: ${b.relay!.updated} brought forward, ${b.relay!.dropped} drops)`,
      );
    }
    const run: Run = { scenario, ...result, cpuUs: usTogether(cpu, result.requests) };
    return { run, batching: b, peak, cpu };
  };

  const load = async (
    scenario: ScenarioKey | "ceiling",
    url: string,
    connections: number,
    script?: Script,
  ): Promise<void> => {
    const { run: result, batching: b, peak, cpu } = await measured(scenario, url, connections, script);
    if (b) batching.push(b);
    for (const [n, kb] of Object.entries(peak)) peakKb[n] = Math.max(peakKb[n] ?? 0, kb);
    if (connections === 32) cpuByScenario[scenario] = cpu;
    runs.push(result);
    // CPU per request is steadier than throughput on a shared machine: it says what a fix saved.
    const tiers = ["web-1", "web-2", "api", "cache", "redis", "db", "proxy", "bench (launcher)"];
    say(runLine(scenario, result, cpu, scenario === "ceiling" ? [] : tiers));
  };

  // Warm up: JIT, connection pools, the cache.
  say("warming up…");
  await wrk(`${store}/`, { connections: 8, seconds: 2 });
  await wrk(store, { connections: 8, seconds: 2, script: getEach(productPaths) });
  await wrk(`${ceiling.url}/`, { connections: 8, seconds: 1 });
  await Bun.sleep(1000);
  const idleKb = snapshotKb(pids);
  // Memory answers only inside a grant: say so when a web server holds none after the warm-up.
  const leases = await webLeases(stack.urls.web);
  for (const { web, lease } of leases) {
    if (lease && !lease.valid) say(`  ${web} holds no grant after the warm-up: ${JSON.stringify(lease)}`);
  }

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
    if (want("mixed")) await load("mixed", store, c, mixed({ reads: productPaths, buys: [...KNOWN_TOYS] }));
  }

  // Every order acknowledged is in the database, and the stock went down by exactly its units.
  const orders = await checkOrders(admin, firstOrder);
  const scarce = want("orders") ? await oversellCheck(admin, store, options.seconds) : null;

  say(`staleness: ${PRICE_ITEM}'s price corrected with admin-api cut off from Redis…`);
  await admin.setStock(PRICE_ITEM, 1000);
  const staleness = sayStaleness(await measureStaleness(stack, { item: PRICE_ITEM }));
  say("clearing a prefix in Redis: SCAN + UNLINK, a generation, one item's keys…");
  const prefixClears = sayPrefixClears(await measurePrefixClears(stack));
  let acks;
  if (want("orders")) {
    say("purchases waiting for the web servers' acknowledgements: memory on and off in turn; web-1 paused…");
    acks = await measureAcks(stack, admin, { seconds: Math.max(1, Math.round(options.seconds / 2)) });
  }

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

  const big = options.items > 0
    ? await bigCatalogue({ stack, options, admin, measured, productPaths, orderBodies }, options.items)
    : undefined;

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
    staleness,
    prefixClears,
    acks,
    leases,
    bigCatalogue: big,
  };
}

function sayStaleness(st: Staleness) {
  const seen = st.writes.map((w) => w.seenMs ?? Infinity);
  say(
    `  ${st.writes.length} writes (${
      st.writes.filter((w) => w.cache === "relayed").length
    } relayed): staleness seen max ${Math.max(...seen)} ms, answer max ${
      Math.max(...st.writes.map((w) => w.answerMs))
    } ms, ${
      st.writes.reduce((n, w) => n + w.staleAfterAnswer, 0)
    } stale reads after an answer, ${st.reads} reads; admin-api given Redis back: ${st.restored}`,
  );
  return st;
}

function sayPrefixClears(ps: PrefixClear[]) {
  for (const p of ps) {
    say(
      `  ${p.keys} keys${
        p.others ? ` (beside ${p.others} others)` : ""
      }: scan+unlink ${p.scan.ms} ms (${p.scan.redisMs} in Redis), generation ${p.generation.ms} ms, one item ${p.item.ms} ms`,
    );
  }
  return ps;
}

/** One measured wrk run (measure's `measured`): its figures, what the tiers counted, each process's CPU. */
type Measured = (
  scenario: ScenarioKey | "product-spread",
  url: string,
  connections: number,
  script?: Script,
) => Promise<{ run: Run; batching?: Batching; cpu: Record<string, number> }>;

type BigContext = {
  stack: Stack;
  options: BenchOptions;
  admin: ReturnType<typeof storeAdmin>;
  measured: Measured;
  productPaths: string[];
  orderBodies: string[];
};

/** --items: `count` more items, the runs at 32 connections beside the ten-toy ones, then a long mixed load. */
async function bigCatalogue(ctx: BigContext, count: number): Promise<BigCatalogue> {
  const { stack, admin, productPaths } = ctx;
  const store = stack.urls.store;
  const counts = () => tierCounts(stack.urls.web, stack.urls.api);
  const pageBytes = async () => (await (await fetch(`${store}/`)).arrayBuffer()).byteLength;
  say(`loading ${count} items…`);
  const bytesBefore = await pageBytes();
  const before = await counts();
  const loaded = await loadItems(stack, count);
  await Bun.sleep(3000);
  const dropped = countedSince(await counts(), before).relay.dropped;
  say(
    `  inserted in ${loaded.insertSeconds.toFixed(1)} s, outbox applied after ${
      loaded.relayedSeconds.toFixed(1)
    } s; the relay dropped the catalogue ${dropped} time(s)`,
  );
  for (const name of KNOWN_TOYS) await admin.setStock(name, FULL_STOCK);
  const paths = [
    ...productPaths,
    ...sampleNames(count, BIG_SAMPLE).map((n) => `/products/${encodeURIComponent(n)}`),
  ];
  // Warmed up as the ten-toy runs were: the items read since the load are filled.
  await wrk(`${store}/`, { connections: 8, seconds: 2 });
  await wrk(store, { connections: 8, seconds: 2, script: getEach(paths) });
  const big: Pick<BigCatalogue, "runs" | "batching" | "cpuUs"> = { runs: [], batching: [], cpuUs: {} };
  // The product reads of the ten-toy runs again (what the target compares: the same
  // reads, a catalogue 10,000 times larger), then spread over a thousand names.
  const kinds: [ScenarioKey | "product-spread", string, Script?][] = [
    ["home", `${store}/`],
    ["product", store, getEach(productPaths)],
    ["product-spread", store, getEach(paths)],
    ["orders", store, postJson("/orders", ctx.orderBodies)],
    ["mixed", store, mixed({ reads: paths, buys: [...KNOWN_TOYS] })],
  ];
  for (const [scenario, url, script] of kinds) {
    const { run, batching: b, cpu } = await ctx.measured(scenario, url, 32, script);
    big.runs.push(run);
    if (b) big.batching.push(b);
    big.cpuUs[scenario] = usPerRequest(cpu, run.requests);
    say(
      `  ${count} items: ${scenario.padEnd(8)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${
        run.p50.toFixed(2)
      } ms  p99 ${run.p99.toFixed(2)} ms  errors ${run.errors}`,
    );
  }
  const soak = await mixedSoak(stack, productPaths, count, ctx.options.quick ? 20 : 60);
  return {
    count,
    ...loaded,
    dropped,
    pageBytes: { before: bytesBefore, after: await pageBytes() },
    sample: BIG_SAMPLE,
    ...big,
    soak,
  };
}

/** The mixed load for `seconds`, half its item reads over all `count` items, web's and the api's memory sampled. */
async function mixedSoak(stack: Stack, productPaths: string[], count: number, seconds: number) {
  say(`  ${seconds} s of mixed load over all ${count} items, memory sampled…`);
  const counts = () => tierCounts(stack.urls.web, stack.urls.api);
  const tiers = () => ({ "web-1": stack.pid("web-1"), "web-2": stack.pid("web-2"), api: stack.pid("api") });
  const before = await counts();
  const script = mixed({
    reads: productPaths,
    buys: [...KNOWN_TOYS],
    spread: { count, luaFormat: luaPathFormat(count) },
  });
  const { result, samples } = await rssOver(
    tiers,
    () => wrk(stack.urls.store, { connections: 32, seconds, script }),
  );
  const counted = countedSince(await counts(), before);
  const held = await Promise.all(stack.urls.web.map(async (u) => {
    const { data } = (await (await fetch(`${u}/healthz`)).json()) as {
      data: { held?: { entries: number; bytes: number } };
    };
    return data.held ?? { entries: 0, bytes: 0 };
  }));
  say(
    `  ${result.rps.toFixed(0)} req/s, errors ${result.errors}, MySQL queries per read ${
      queriesPerRead(counted.catalog)
    }; RSS after ${seconds} s: ${
      Object.entries(samples.at(-1)!.kb).map(([n, kb]) => `${n} ${(kb / 1024).toFixed(0)} MB`).join(", ")
    }`,
  );
  return { seconds, run: { scenario: "mixed", ...result }, counts: counted, samples, held };
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

/** After "wrote …": where the published report is, when this run did not write it. */
const wroteWhere = (options: BenchOptions) =>
  options.out === PUBLISHED_REPORT ? "" : ` — ${PUBLISHED_REPORT} is written only with --write`;

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
  say(`wrote ${parsed.out} from ${parsed.from}${wroteWhere(parsed)}`);
} else {
  await main(parsed).catch((err) => {
    if (err instanceof StartInterrupted) {
      say(err.message);
      process.exit(signalExitCode(err.reason));
    }
    // What the machine or the stack refused says itself (the port, the service and its
    // last lines); a stack trace would only bury it.
    if (
      err instanceof BenchPortsTaken || err instanceof StackStartError || /already in use/.test(err.message)
    ) {
      say(`bench: ${err.message}`);
      process.exit(1);
    }
    throw err;
  });
}
