// --cluster: the purchases again on the bench's stack with three database nodes (a
// Galera cluster behind the data tier's HAProxy, local/src/galera.ts), started after
// the one-node runs, at the same connection counts; then a `kill -9` of the writer
// under purchases, timed from the kill to the first purchase acknowledged after it.
import { KNOWN_TOYS } from "../../client/src/session.ts";
import { publicOrderNumber } from "../../lib/src/order-number.ts";
import { nodePorts, type Stack } from "../../local/src/index.ts";
import { type BenchOptions, CLUSTER_SCENARIOS } from "./options.ts";
import { sampled, snapshotKb, stackPids } from "./procs.ts";
import { BENCH_ITEMS, checkOrders, FULL_STOCK, ORDER_BODIES } from "./purchases.ts";
import type { ClusterResults, Failover, GaleraCounts, Run } from "./report.ts";
import { runLine, say, usTogether } from "./say.ts";
import { storeAdmin } from "./store.ts";
import { getEach, mixed, postJson, wrk } from "./wrk.ts";

/** Connections of wrk's purchases during the failover (beside the timed buyers). */
const FAILOVER_CONNECTIONS = 32;
/** Buyers that time each purchase of the failover: one request at a time each. */
const FAILOVER_BUYERS = 4;
/** How long the killed writer may take to be Synced again before the bench gives up waiting. */
const REJOIN_LIMIT_MS = 90_000;

/** Galera's counters on the writer (SHOW GLOBAL STATUS), read around each run. */
const GALERA_COUNTERS = {
  writesets: "wsrep_replicated",
  bytes: "wsrep_replicated_bytes",
  certFailures: "wsrep_local_cert_failures",
  bfAborts: "wsrep_local_bf_aborts",
  flowControlPausedNs: "wsrep_flow_control_paused_ns",
} as const satisfies Record<keyof GaleraCounts, string>;

/** Galera's counters on db-1 now. */
async function galeraCounters(stack: Stack): Promise<GaleraCounts> {
  const names = Object.values(GALERA_COUNTERS).map((n) => `'${n}'`).join(",");
  const out = await stack.sql(`SHOW GLOBAL STATUS WHERE Variable_name IN (${names})`);
  const values = new Map(
    out.trim().split("\n").slice(1).map((l) => l.split("\t") as [string, string]),
  );
  return Object.fromEntries(
    Object.entries(GALERA_COUNTERS).map(([k, n]) => [k, Number(values.get(n) ?? NaN)]),
  ) as GaleraCounts;
}

const countedBetween = (after: GaleraCounts, before: GaleraCounts) =>
  Object.fromEntries(
    (Object.keys(after) as (keyof GaleraCounts)[]).map((k) => [k, after[k] - before[k]]),
  ) as GaleraCounts;

/**
 * The three-node run on a started stack (`dbNodes: 3`, fresh): the purchase scenarios
 * of `--only` at each connection count, each process's CPU and memory, the orders
 * checked against the stock, then the failover.
 *
 * `stop` (the bench's stop requests) also ends the failover's long wrk at once.
 *
 * @example results.cluster = await measureCluster(stack, options, 27.4, requests.signal);
 */
export async function measureCluster(
  stack: Stack,
  options: BenchOptions,
  startSeconds: number,
  stop: AbortSignal,
): Promise<ClusterResults> {
  const { store } = stack.urls;
  const admin = storeAdmin(stack);
  for (const name of [...BENCH_ITEMS, ...KNOWN_TOYS]) await admin.setStock(name, FULL_STOCK);
  const firstOrder = await admin.lastOrderNumber();
  const productPaths = KNOWN_TOYS.map((t) => `/products/${t}`);

  // The same warm-up as the one-node stack's.
  say("three database nodes: warming up…");
  await wrk(`${store}/`, { connections: 8, seconds: 2 });
  await wrk(store, { connections: 8, seconds: 2, script: getEach(productPaths) });
  await Bun.sleep(1000);
  const pids = stackPids(stack);
  const idleKb = snapshotKb(pids);

  const scripts = {
    orders: postJson("/orders", ORDER_BODIES),
    mixed: mixed({ reads: productPaths, buys: [...KNOWN_TOYS] }),
  } as const;
  const scenarios = CLUSTER_SCENARIOS.filter((s) => options.only.includes(s)) as (keyof typeof scripts)[];
  const runs: Run[] = [];
  const cpu: ClusterResults["cpu"] = {};
  const galera: ClusterResults["galera"] = {};
  const loadKb: Record<string, number> = {};
  const tiers = ["api", "db-1", "db-2", "db-3", "db", "db-probe-1", "bench (launcher)"];
  for (const c of options.connections) {
    for (const scenario of scenarios) {
      const before = await galeraCounters(stack);
      const { result, peakKb, cpu: used } = await sampled(
        pids,
        () => wrk(store, { connections: c, seconds: options.seconds, script: scripts[scenario] }),
      );
      galera[`${scenario} ${c}`] = countedBetween(await galeraCounters(stack), before);
      cpu[`${scenario} ${c}`] = used;
      for (const [n, kb] of Object.entries(peakKb)) loadKb[n] = Math.max(loadKb[n] ?? 0, kb);
      runs.push({ scenario, ...result, cpuUs: usTogether(used, result.requests) });
      say(runLine(scenario, result, used, tiers));
    }
  }
  const failover = await measureFailover(stack, stop);
  // Every purchase acknowledged to wrk or a buyer is stored (there may be more: ones in
  // flight at wrk's end, 504s), and the stock went down by exactly the orders' units.
  const acknowledged = [...runs.filter((r) => r.scenario === "orders"), failover.wrk].reduce(
    (n, r) => n + (r.statuses["200"] ?? 0),
    failover.acknowledged,
  );
  const checked = await checkOrders(admin, firstOrder);
  const orders = { acknowledged, ...checked, ok: checked.ok && checked.placed >= acknowledged };
  return { nodes: stack.dbNodes, startSeconds, runs, cpu, galera, orders, rss: { idleKb, loadKb }, failover };
}

type Answer = { began: number; ended: number; status: number; order?: number; requestId?: string };

/** One purchase through the store, timed; status 0 when no answer came. */
async function timedPurchase(store: string, body: string): Promise<Answer> {
  const began = Date.now();
  try {
    const res = await fetch(`${store}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const json = (await res.json()) as { data?: { order_number: number }; error?: { message: string } };
    return {
      began,
      ended: Date.now(),
      status: res.status,
      order: json.data?.order_number,
      requestId: json.error?.message.match(/request_id=(\w+)/)?.[1],
    };
  } catch {
    return { began, ended: Date.now(), status: 0 };
  }
}

/** Whether node n's probe says Synced and Primary. */
const synced = (stack: Stack, n: number) =>
  fetch(`http://127.0.0.1:${nodePorts(stack.ports.db, n).probe}/`).then((r) => r.ok, () => false);

/**
 * A `kill -9` of the writer (db-1) under purchases: wrk's at 32 connections, and
 * buyers that time each of theirs. From the kill to the first purchase begun after it
 * and acknowledged; what the buyers were answered before it, until db-1 is Synced
 * again (the launcher restarts it), and in the 2 s after; then every acknowledged
 * order (and every 504 found placed by its request id) looked for in the database.
 */
export async function measureFailover(stack: Stack, stop: AbortSignal): Promise<Failover> {
  const store = stack.urls.store;
  const before = await stack.sql("SELECT COALESCE(MAX(number), 0) FROM bazaar.orders").then((o) =>
    Number(o.trim().split("\n")[1])
  );
  const stopWrk = new AbortController();
  const load = wrk(store, {
    connections: FAILOVER_CONNECTIONS,
    seconds: REJOIN_LIMIT_MS / 1000 + 30,
    script: postJson("/orders", ORDER_BODIES),
    // Ended when the buyers are done, or by a stop request: never left running after the bench.
    stop: AbortSignal.any([stopWrk.signal, stop]),
  });
  let stopAt = Number.POSITIVE_INFINITY;
  const answers: Answer[] = [];
  const buyer = async (i: number) => {
    for (let k = i; Date.now() < stopAt; k++) {
      answers.push(await timedPurchase(store, ORDER_BODIES[k % ORDER_BODIES.length]!));
    }
  };
  const buyers = Promise.all(Array.from({ length: FAILOVER_BUYERS }, (_, i) => buyer(i)));
  await Bun.sleep(2000);
  const writer = stack.pid("db-1")!;
  say(`failover: kill -9 of the writer db-1 (pid ${writer}) under purchases…`);
  const killedAt = Date.now();
  // A crash, not the stack's kill(): the launcher restarts it as it would any crashed server.
  process.kill(writer, "SIGKILL");
  await Bun.sleep(500);
  while (!(await synced(stack, 1)) && Date.now() < killedAt + REJOIN_LIMIT_MS) await Bun.sleep(200);
  const syncedAt = (await synced(stack, 1)) ? Date.now() : undefined;
  stopAt = Date.now() + 2000;
  await buyers;
  stopWrk.abort();
  const wrkRun = await load;

  const firstAck = answers.filter((a) => a.began > killedAt && a.status === 200)
    .reduce((t, a) => Math.min(t, a.ended), Number.POSITIVE_INFINITY);
  const phaseOf = (a: Answer) =>
    a.ended < killedAt
      ? "before"
      : a.ended <= firstAck
      ? "failover"
      : syncedAt === undefined || a.ended < syncedAt
      ? "degraded"
      : "failback";
  const byPhase: Failover["answers"] = { before: {}, failover: {}, degraded: {}, failback: {} };
  const spans: Failover["spans"] = { before: {}, failover: {}, degraded: {}, failback: {} };
  for (const a of answers.sort((x, y) => x.ended - y.ended)) {
    const phase = phaseOf(a);
    const status = String(a.status);
    byPhase[phase][status] = (byPhase[phase][status] ?? 0) + 1;
    const at = a.ended - killedAt;
    spans[phase][status] = [spans[phase][status]?.[0] ?? at, at];
  }

  // A 504's outcome is unknown, never "not placed": looked up by its request id.
  const inDoubt = answers.filter((a) => a.requestId);
  const found: number[] = [];
  for (const a of inDoubt) {
    const res = await fetch(`${store}/orders?request_id=${a.requestId}`);
    const json = (await res.json()) as { data?: { order_number?: number } };
    if (res.ok && json.data?.order_number !== undefined) found.push(json.data.order_number);
  }
  const acked = [
    ...answers.flatMap((a) => (a.status === 200 && a.order !== undefined ? [a.order] : [])),
    ...found,
  ];
  const missing = await missingOrders(stack, before, acked);
  const ist = stack.logs("db-1").some((l) => /IST completed on joiner/.test(l));
  const result: Failover = {
    connections: FAILOVER_CONNECTIONS,
    buyers: FAILOVER_BUYERS,
    firstAckMs: Number.isFinite(firstAck) ? firstAck - killedAt : null,
    syncedAgainMs: syncedAt === undefined ? null : syncedAt - killedAt,
    ist,
    answers: byPhase,
    spans,
    wrk: { scenario: "orders", ...wrkRun },
    inDoubt: inDoubt.length,
    inDoubtPlaced: found.length,
    acknowledged: acked.length,
    missing: missing.length,
    duplicates: acked.length - new Set(acked).size,
  };
  say(
    `  first purchase acknowledged ${
      result.firstAckMs ?? "never"
    } ms after the kill; db-1 Synced again after ${
      result.syncedAgainMs ?? "more than " + REJOIN_LIMIT_MS
    } ms (IST: ${ist}); buyers' answers ${
      JSON.stringify(byPhase)
    }; ${inDoubt.length} in doubt, ${found.length} of them placed; ${acked.length} acknowledged, ${missing.length} missing, ${result.duplicates} numbers twice; wrk ${
      JSON.stringify(wrkRun.statuses)
    } (${wrkRun.socketErrors} socket errors) in ${wrkRun.seconds.toFixed(1)} s`,
  );
  return result;
}

/** The acknowledged orders (public numbers) not in the database, once every node has had 10 s to apply them. */
async function missingOrders(stack: Stack, after: number, acked: number[]) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const out = await stack.sql(`SELECT number FROM bazaar.orders WHERE number > ${after}`);
    const held = new Set(out.trim().split("\n").slice(1).map((k) => publicOrderNumber(Number(k))));
    const missing = acked.filter((o) => !held.has(o));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await Bun.sleep(200);
  }
}
