// docs/performance.md from one bench run: the tables, the targets, the charts.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { WrkResult } from "./wrk.ts";
import { barChart, lineChart } from "./svg.ts";

export type Run = WrkResult & { scenario: string };
type Latency = { p50: number | null; p90: number | null; p99: number | null; max: number | null };
export type EvalRow = {
  cache: "on" | "off"; p: number; query: Latency; buy: Latency; queries: number; buys: number;
  errors: number; mismatches: number; ok: boolean; throughput: number;
};
export type Results = {
  startedAt: string; finishedAt: string; quick: boolean; seconds: number; connections: number[];
  machine: { cpu: string; cores: number; memoryGb: number; kernel: string; load: number[]; loadBefore: number[] };
  tools: { wrk: string; haproxy: string; bun: string };
  pageBytes: number;
  benchItems: string[];
  runs: Run[];
  orders: { placed: number; units: number; stockDrop: number; ok: boolean };
  oversell: { stock: number; okAnswers: number; refused: number; ordersInDb: number; finalStock: number; errors: number; ok: boolean } | null;
  evaluation: EvalRow[];
  rss: { idleKb: Record<string, number>; loadKb: Record<string, number> };
  cpuAt32: Record<string, Record<string, number>>;
};

export const LABELS: Record<string, string> = {
  ceiling: "ceiling (fixed page)",
  home: "GET /",
  product: "GET /products/:name",
  "product-off": "GET /products/:name, cache off",
  orders: "POST /orders",
  lookup: "GET /orders/:number",
};
const ORDER = ["ceiling", "home", "product", "product-off", "orders", "lookup"];

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const ms = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const mb = (kb: number | undefined) => (kb === undefined ? "–" : (kb / 1024).toFixed(0));

export type Target = { what: string; goal: string; measured: string; met: boolean };

export function targets(r: Results): Target[] {
  const by = (s: string) => r.runs.filter((x) => x.scenario === s);
  const at = (s: string, c: number) => by(s).find((x) => x.connections === c);
  const best = (s: string) => by(s).reduce<Run | undefined>((b, x) => (!b || x.rps > b.rps ? x : b), undefined);
  const out: Target[] = [];
  const home = best("home");
  const ceil = best("ceiling");
  if (home && ceil) {
    const share = home.rps / ceil.rps;
    out.push({ what: "storefront page (GET /) through HAProxy", goal: "≥ 30% of the ceiling's throughput", measured: `${n0(home.rps)} req/s (c=${home.connections}) vs ceiling ${n0(ceil.rps)} req/s (c=${ceil.connections}): ${pct(share)}`, met: share >= 0.3 });
  }
  const p32 = at("product", 32);
  if (p32) out.push({ what: "GET /products/:name from cache, 32 connections", goal: "p99 < 5 ms", measured: `p99 ${ms(p32.p99)} ms`, met: p32.p99 < 5 });
  const off32 = at("product-off", 32);
  if (p32 && off32) {
    const x = p32.rps / off32.rps;
    out.push({ what: "GET /products/:name, cache on vs off, 32 connections", goal: "≥ 2× the throughput", measured: `${n0(p32.rps)} vs ${n0(off32.rps)} req/s: ${x.toFixed(2)}×`, met: x >= 2 });
  }
  const orders = best("orders");
  if (orders) {
    const oversellOk = r.orders.ok && (r.oversell?.ok ?? true);
    out.push({
      what: "POST /orders", goal: "≥ 1,000 orders/s, zero oversell",
      measured: `${n0(orders.rps)} orders/s (c=${orders.connections}); stock and orders ${r.orders.ok ? "agree" : "DISAGREE"}; scarce item ${r.oversell ? (r.oversell.ok ? `sold exactly ${r.oversell.stock}` : "OVERSOLD or wrong") : "not checked"}`,
      met: orders.rps >= 1000 && oversellOk,
    });
  }
  const wrkErrors = r.runs.reduce((n, x) => n + x.errors, 0) + (r.oversell?.errors ?? 0);
  const evalErrors = r.evaluation.reduce((n, x) => n + x.errors + x.mismatches, 0);
  out.push({ what: "errors", goal: "zero in every run", measured: `${wrkErrors} in the wrk runs, ${evalErrors} errors or mismatches in the client runs`, met: wrkErrors === 0 && evalErrors === 0 });
  return out;
}

export function writeReport(file: string, r: Results) {
  const dir = path.dirname(file);
  const chartDir = path.join(dir, "performance");
  mkdirSync(chartDir, { recursive: true });
  const rel = (name: string) => `${path.basename(chartDir)}/${name}`;
  const charts: Record<string, string> = {};
  const scenarios = ORDER.filter((s) => r.runs.some((x) => x.scenario === s));
  const cats = r.connections.map((c) => `${c} conn.`);
  const valueOf = (s: string, c: number, f: (x: Run) => number) => {
    const x = r.runs.find((y) => y.scenario === s && y.connections === c);
    return x ? f(x) : null;
  };
  const ceilingAt = (c: number) => r.runs.find((y) => y.scenario === "ceiling" && y.connections === c)?.rps;

  charts["throughput.svg"] = barChart({
    title: "Throughput through HAProxy (requests/s, higher is better)", yLabel: "requests/s", categories: cats,
    series: scenarios.map((s) => ({ name: LABELS[s]!, values: r.connections.map((c) => valueOf(s, c, (x) => x.rps)) })),
  });
  charts["share-of-ceiling.svg"] = barChart({
    title: "Throughput as a share of the ceiling (%)", yLabel: "% of ceiling", categories: cats,
    series: scenarios.filter((s) => s !== "ceiling").map((s) => ({ name: LABELS[s]!, values: r.connections.map((c) => valueOf(s, c, (x) => (100 * x.rps) / (ceilingAt(c) ?? NaN))) })),
  });
  charts["p99.svg"] = barChart({
    title: "Latency p99 (ms, lower is better)", yLabel: "ms", categories: cats,
    series: scenarios.map((s) => ({ name: LABELS[s]!, values: r.connections.map((c) => valueOf(s, c, (x) => x.p99)) })),
  });
  const ps = [...new Set(r.evaluation.map((e) => e.p))];
  if (ps.length) {
    const line = (cache: "on" | "off", kind: "query" | "buy", q: "p50" | "p99") => ({
      name: `${kind} ${q}, cache ${cache}`,
      values: ps.map((p) => r.evaluation.find((e) => e.cache === cache && e.p === p)?.[kind][q] ?? null),
    });
    charts["evaluation-p50.svg"] = lineChart({
      title: "Lab evaluation: median latency by buy probability p", yLabel: "ms", xLabel: "p (probability of buying)", x: ps,
      series: [line("on", "query", "p50"), line("off", "query", "p50"), line("on", "buy", "p50"), line("off", "buy", "p50")],
    });
    charts["evaluation-p99.svg"] = lineChart({
      title: "Lab evaluation: p99 latency by buy probability p", yLabel: "ms", xLabel: "p (probability of buying)", x: ps,
      series: [line("on", "query", "p99"), line("off", "query", "p99"), line("on", "buy", "p99"), line("off", "buy", "p99")],
    });
  }
  const procs = Object.keys(r.rss.idleKb);
  charts["memory.svg"] = barChart({
    title: "Resident memory per process (MB)", yLabel: "MB", categories: procs.map((p) => p.replace(" (launcher)", "")),
    series: [
      { name: "idle", values: procs.map((p) => r.rss.idleKb[p]! / 1024) },
      { name: "peak under load", values: procs.map((p) => (r.rss.loadKb[p] ?? 0) / 1024) },
    ],
  });
  for (const [name, svg] of Object.entries(charts)) writeFileSync(path.join(chartDir, name), svg);

  const md: string[] = [];
  md.push(
    "# Performance",
    "",
    `Measured by \`bun run bench${r.quick ? " -- --quick" : ""}\` on ${r.startedAt.slice(0, 10)} (${r.startedAt} – ${r.finishedAt}).`,
    r.quick ? "\n**Quick run: short runs, figures are rough.**\n" : "",
    `- **Machine:** ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}; load average ${r.machine.loadBefore.join(" / ")} before, ${r.machine.load.join(" / ")} after. Other work (test suites of other sessions) was running on the machine at the same time, so absolute figures swing; the **share of the ceiling**, measured minutes apart in the same run, is the comparable figure.`,
    `- **Load tool:** ${r.tools.wrk} (Debian), ${r.seconds} s per run, 2 threads (1 at one connection), with a Lua script that counts every response by status; the lab's evaluation uses the project's own load client (\`client/\`, \`runClient\`). ${r.tools.haproxy}; Bun ${r.tools.bun}.`,
    "- **Stack:** the local stack (`startStack`, ports 4xxxx, fresh data): HAProxy → web-1/web-2 → api → MariaDB + Redis through the bridge, all on this one machine with wrk — the load generator takes CPU from the store, as it does from the ceiling.",
    `- **Ceiling:** the same \`proxy/haproxy.cfg\` run as a second HAProxy in front of two tiny Bun servers returning a fixed page (the storefront's ${n0(r.pageBytes)} bytes, captured at the start).`,
    `- **Purchases** go round robin to ${r.benchItems.length} items (${r.benchItems[0]} … ${r.benchItems.at(-1)}), quantity 1 each, stock set to 1,000,000 first; the order lookups read back orders placed in the run.`,
    "",
    "## Targets",
    "",
    "| target | goal | measured | met |",
    "|---|---|---|---|",
    ...targets(r).map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? "✅ yes" : "❌ no"} |`),
    "",
    "## Throughput and latency through HAProxy",
    "",
    `![throughput](${rel("throughput.svg")})`,
    "",
    `![share of ceiling](${rel("share-of-ceiling.svg")})`,
    "",
    "| request | connections | req/s | share of ceiling | p50 ms | p90 ms | p99 ms | max ms | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of scenarios) {
    for (const x of r.runs.filter((y) => y.scenario === s)) {
      const ceil = ceilingAt(x.connections);
      md.push(`| ${LABELS[s]} | ${x.connections} | ${n0(x.rps)} | ${ceil ? pct(x.rps / ceil) : "–"} | ${ms(x.p50)} | ${ms(x.p90)} | ${ms(x.p99)} | ${ms(x.max)} | ${x.errors} |`);
    }
  }
  md.push("", `![p99](${rel("p99.svg")})`, "");

  md.push("## Purchases: no oversell", "");
  md.push(`- During the POST /orders runs ${n0(r.orders.placed)} orders (${n0(r.orders.units)} units) were stored, and the stock of the bench items went down by ${n0(r.orders.stockDrop)}: ${r.orders.ok ? "the same, none below zero" : "**they differ**"}.`);
  if (r.oversell) {
    const o = r.oversell;
    md.push(`- A scarce item with stock ${o.stock}, 32 connections buying for up to 3 s: ${n0(o.okAnswers)} purchases acknowledged, ${n0(o.refused)} answered 409 "not enough stock", ${o.ordersInDb} orders in the database, final stock ${o.finalStock}, ${o.errors} other errors — ${o.ok ? "exactly the stock was sold" : "**wrong**"}.`);
  }
  md.push("");

  if (r.evaluation.length) {
    md.push(
      "## The lab's evaluation: query and buy latency by p",
      "",
      "The load client (16 sessions, seed 42) for a fixed time per p; each session queries a random toy (some unknown) and buys it with probability p when in stock; every order is then read back and checked. Cache off: api restarted with `CACHE_ENABLED=false`.",
      "",
      `![evaluation p50](${rel("evaluation-p50.svg")})`,
      "",
      `![evaluation p99](${rel("evaluation-p99.svg")})`,
      "",
      "| cache | p | queries | query p50 | query p99 | buys | buy p50 | buy p99 | requests/s | errors | orders checked |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
      ...r.evaluation.map((e) => `| ${e.cache} | ${e.p} | ${n0(e.queries)} | ${ms(e.query.p50)} | ${ms(e.query.p99)} | ${n0(e.buys)} | ${ms(e.buy.p50)} | ${ms(e.buy.p99)} | ${n0(e.throughput)} | ${e.errors} | ${e.ok ? "all match" : `${e.mismatches} mismatched`} |`),
      "",
      "Latencies in ms. The share of the ceiling does not apply here: the client runs a fixed number of sessions, each waiting for its answer before the next request.",
      "",
    );
  }

  md.push(
    "## Memory",
    "",
    "Resident set size (VmRSS from /proc/<pid>/status) of every process, idle after the warm-up and the peak sampled every 250 ms during the wrk runs.",
    "",
    `![memory](${rel("memory.svg")})`,
    "",
    "| process | idle MB | peak under load MB |",
    "|---|---:|---:|",
    ...procs.map((p) => `| ${p} | ${mb(r.rss.idleKb[p])} | ${mb(r.rss.loadKb[p])} |`),
    "",
  );

  const cpuScen = Object.keys(r.cpuAt32);
  if (cpuScen.length) {
    const names = [...new Set(cpuScen.flatMap((s) => Object.entries(r.cpuAt32[s]!).filter(([, v]) => v >= 0.05).map(([n]) => n)))];
    md.push(
      "## Where the CPU goes (32 connections)",
      "",
      `CPU seconds each process used during one ${r.seconds} s run at 32 connections (2 cores = ${2 * r.seconds} CPU seconds at most; wrk takes the rest).`,
      "",
      `| process | ${cpuScen.map((s) => LABELS[s] ?? s).join(" | ")} |`,
      `|---|${cpuScen.map(() => "---:").join("|")}|`,
      ...names.map((n) => `| ${n} | ${cpuScen.map((s) => (r.cpuAt32[s]![n] ?? 0).toFixed(2)).join(" | ")} |`),
      "",
    );
  }
  writeFileSync(file, md.filter((l, i, a) => !(l === "" && a[i - 1] === "")).join("\n") + "\n");
}
