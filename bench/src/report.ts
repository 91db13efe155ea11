// docs/performance.md from one bench run: the tables, the targets, the charts.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { WrkResult } from "./wrk.ts";
import { barChart, lineChart } from "./svg.ts";

export type Run = WrkResult & { scenario: string };
type Latency = { p50: number | null; p90: number | null; p99: number | null; max: number | null };
export type EvalRow = {
  cache: "on" | "off";
  p: number;
  query: Latency;
  buy: Latency;
  queries: number;
  buys: number;
  errors: number;
  mismatches: number;
  ok: boolean;
  throughput: number;
};
export type Results = {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  seconds: number;
  connections: number[];
  machine: {
    cpu: string;
    cores: number;
    memoryGb: number;
    kernel: string;
    load: number[];
    loadBefore: number[];
  };
  tools: { wrk: string; haproxy: string; bun: string };
  pageBytes: number;
  benchItems: string[];
  runs: Run[];
  /** Absent in results from before the checks were coalesced. */
  batching?: Batching[];
  orders: { placed: number; units: number; stockDrop: number; ok: boolean };
  oversell: {
    stock: number;
    okAnswers: number;
    refused: number;
    ordersInDb: number;
    finalStock: number;
    errors: number;
    ok: boolean;
  } | null;
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

export type Target = { what: string; goal: string; measured: string; met: boolean; why?: string };

/** CPU µs per request of each process during a scenario's run at 32 connections. */
export function cpuPerRequest(r: Results, scenario: string): Record<string, number> {
  const run = r.runs.find((x) => x.scenario === scenario && x.connections === 32);
  const cpu = r.cpuAt32[scenario];
  if (!run || !cpu) return {};
  return Object.fromEntries(Object.entries(cpu).map(([n, s]) => [n, Math.round((s / run.requests) * 1e6)]));
}
const sum = (o: Record<string, number>, names?: string[]) =>
  Object.entries(o).filter(([n]) => !names || names.includes(n)).reduce((t, [, v]) => t + v, 0);

/** Requests and coalesced checks during one run, summed over the web servers, and the api's. */
export type Batching = {
  scenario: string;
  connections: number;
  web: { requests: number; checks: number };
  api: { requests: number; checks: number };
};

const perCheck = (x: { requests: number; checks: number }) =>
  x.checks ? (x.requests / x.checks).toFixed(1) : "–";

/** The targets, each judged at 32 connections, the scenarios measured side by side minutes apart. */
export function targets(r: Results): Target[] {
  const at = (s: string, c: number) => r.runs.find((x) => x.scenario === s && x.connections === c);
  const out: Target[] = [];
  const ceil = at("ceiling", 32);
  const cost = (s: string) => sum(cpuPerRequest(r, s));
  const share = (s: string, what: string) => {
    const run = at(s, 32);
    if (!run || !ceil) return;
    const x = run.rps / ceil.rps;
    out.push({
      what: `${what} through HAProxy, 32 connections`,
      goal: "≥ 50% of the ceiling's throughput",
      measured: `${n0(run.rps)} req/s vs ceiling ${n0(ceil.rps)} req/s: ${pct(x)}`,
      met: x >= 0.5,
      why: `${what} cost ${cost(s)} µs of CPU per request across every process, the ceiling's fixed page ${
        cost("ceiling")
      } µs (the table below gives each tier).`,
    });
  };
  share("home", "storefront page (GET /)");
  share("product", "GET /products/:name");
  const p32 = at("product", 32);
  if (p32) {
    out.push({
      what: "GET /products/:name latency, 32 connections",
      goal: "p99 < 5 ms",
      measured: `p50 ${ms(p32.p50)} ms, p99 ${ms(p32.p99)} ms at ${n0(p32.rps)} req/s`,
      met: p32.p99 < 5,
      why: `With 32 requests always in flight the mean latency is 32 ÷ throughput (Little's law): ${
        ms(32000 / p32.rps)
      } ms at the ${n0(p32.rps)} req/s measured; the p99 was ${
        (p32.p99 / Math.max(p32.p50, 0.001)).toFixed(1)
      } × the p50.`,
    });
  }
  const orders = at("orders", 32);
  if (orders) {
    const oversellOk = r.orders.ok && (r.oversell?.ok ?? true);
    out.push({
      what: "POST /orders, 32 connections",
      goal: "≥ 1,000 orders/s, zero oversell",
      measured: `${n0(orders.rps)} orders/s; stock and orders ${
        r.orders.ok ? "agree" : "DISAGREE"
      }; scarce item ${
        r.oversell
          ? (r.oversell.ok ? `sold exactly ${r.oversell.stock}` : "OVERSOLD or wrong")
          : "not checked"
      }`,
      met: orders.rps >= 1000 && oversellOk,
    });
  }
  const wrkErrors = r.runs.reduce((n, x) => n + x.errors, 0) + (r.oversell?.errors ?? 0);
  const evalErrors = r.evaluation.reduce((n, x) => n + x.errors + x.mismatches, 0);
  out.push({
    what: "errors",
    goal: "zero in every run",
    measured: `${wrkErrors} in the wrk runs, ${evalErrors} errors or mismatches in the client runs`,
    met: wrkErrors === 0 && evalErrors === 0,
  });
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
    title: "Throughput through HAProxy (requests/s, higher is better)",
    yLabel: "requests/s",
    categories: cats,
    series: scenarios.map((s) => ({
      name: LABELS[s]!,
      values: r.connections.map((c) => valueOf(s, c, (x) => x.rps)),
    })),
  });
  charts["share-of-ceiling.svg"] = barChart({
    title: "Throughput as a share of the ceiling (%)",
    yLabel: "% of ceiling",
    categories: cats,
    series: scenarios.filter((s) => s !== "ceiling").map((s) => ({
      name: LABELS[s]!,
      values: r.connections.map((c) => valueOf(s, c, (x) => (100 * x.rps) / (ceilingAt(c) ?? NaN))),
    })),
  });
  charts["p99.svg"] = barChart({
    title: "Latency p99 (ms, lower is better)",
    yLabel: "ms",
    categories: cats,
    series: scenarios.map((s) => ({
      name: LABELS[s]!,
      values: r.connections.map((c) => valueOf(s, c, (x) => x.p99)),
    })),
  });
  const ps = [...new Set(r.evaluation.map((e) => e.p))];
  if (ps.length) {
    const line = (cache: "on" | "off", kind: "query" | "buy", q: "p50" | "p99") => ({
      name: `${kind} ${q}, cache ${cache}`,
      values: ps.map((p) => r.evaluation.find((e) => e.cache === cache && e.p === p)?.[kind][q] ?? null),
    });
    for (const [q, what] of [["p50", "median"], ["p99", "p99"]] as const) {
      charts[`evaluation-${q}.svg`] = lineChart({
        title: `Lab evaluation: ${what} latency by buy probability p`,
        yLabel: "ms",
        xLabel: "p (probability of buying)",
        x: ps,
        series: [
          line("on", "query", q),
          line("off", "query", q),
          line("on", "buy", q),
          line("off", "buy", q),
        ],
      });
    }
  }
  const procs = Object.keys(r.rss.idleKb);
  charts["memory.svg"] = barChart({
    title: "Resident memory per process (MB)",
    yLabel: "MB",
    categories: procs.map((p) => p.replace(" (launcher)", "")),
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
    `Measured by \`bun run bench${r.quick ? " -- --quick" : ""}\` on ${
      r.startedAt.slice(0, 10)
    } (${r.startedAt} – ${r.finishedAt}).`,
    r.quick ? "\n**Quick run: short runs, figures are rough.**\n" : "",
    `- **Machine:** ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}; load average ${
      r.machine.loadBefore.join(" / ")
    } before, ${
      r.machine.load.join(" / ")
    } after (the store, the ceiling and wrk share the 2 cores; absolute figures swing from run to run on a shared machine, so the **share of the ceiling**, measured minutes apart in the same run, is the comparable figure).`,
    `- **Load tool:** ${r.tools.wrk} (Debian), ${r.seconds} s per run, 2 threads (1 at one connection), with a Lua script that counts every response by status; the lab's evaluation uses the project's own load client (\`client/\`, \`runClient\`). ${r.tools.haproxy}; Bun ${r.tools.bun}.`,
    "- **Stack:** the local stack (`startStack`, ports 4xxxx, fresh data): HAProxy → web-1/web-2 → api → MariaDB + Redis through the bridge, all on this one machine with wrk — the load generator takes CPU from the store, as it does from the ceiling.",
    `- **Ceiling:** the same \`proxy/haproxy.cfg\` run as a second HAProxy in front of two tiny Bun servers returning a fixed page (the storefront's ${
      n0(r.pageBytes)
    } bytes, captured at the start).`,
    r.runs.some((x) => x.scenario === "product-off")
      ? "- **Cache off:** GET /products/:name with the cache off is measured right after the same read with it on, at each connection count (the api restarted with `CACHE_ENABLED=false`, then back)."
      : "",
    `- **Purchases** go round robin to ${r.benchItems.length} items (${r.benchItems[0]} … ${
      r.benchItems.at(-1)
    }), quantity 1 each, stock set to 1,000,000 first; the order lookups read back orders placed in the run.`,
    "",
    "## Targets",
    "",
    "| target | goal | measured | met |",
    "|---|---|---|---|",
    ...targets(r).map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? "✅ yes" : "❌ no"} |`),
    "",
    ...targets(r).filter((t) => !t.met && t.why).flatMap((t) => [`**Why not — ${t.what}:** ${t.why}`, ""]),
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
      md.push(
        `| ${LABELS[s]} | ${x.connections} | ${n0(x.rps)} | ${ceil ? pct(x.rps / ceil) : "–"} | ${
          ms(x.p50)
        } | ${ms(x.p90)} | ${ms(x.p99)} | ${ms(x.max)} | ${x.errors} |`,
      );
    }
  }
  md.push("", `![p99](${rel("p99.svg")})`, "");

  if (r.batching?.length) {
    md.push(
      "## Requests per check (the batching factor)",
      "",
      "Every read is revalidated against the database's version, and the checks are coalesced: for one entry at most one check is in flight, and a request waits for the next check, one that started after it arrived (`lib/src/revalidate.ts`). Counted by each tier during the run (`/healthz`): requests that needed an entry, and the checks made for them — the web servers' checks to the api (`If-None-Match`), and the api's to the database.",
      "",
      "| request | connections | web: requests | web: checks | web: requests per check | api: requests | api: checks | api: requests per check |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...r.batching.map((b) =>
        `| ${LABELS[b.scenario] ?? b.scenario} | ${b.connections} | ${n0(b.web.requests)} | ${
          n0(b.web.checks)
        } | ${perCheck(b.web)} | ${n0(b.api.requests)} | ${n0(b.api.checks)} | ${perCheck(b.api)} |`
      ),
      "",
    );
  }

  md.push("## Purchases: no oversell", "");
  md.push(
    `- During the POST /orders runs ${n0(r.orders.placed)} orders (${
      n0(r.orders.units)
    } units) were stored, and the stock of the bench items went down by ${n0(r.orders.stockDrop)}: ${
      r.orders.ok ? "the same, none below zero" : "**they differ**"
    }.`,
  );
  if (r.oversell) {
    const o = r.oversell;
    md.push(
      `- A scarce item with stock ${o.stock}, 32 connections buying for up to 3 s: ${
        n0(o.okAnswers)
      } purchases acknowledged, ${
        n0(o.refused)
      } answered 409 "not enough stock", ${o.ordersInDb} orders in the database, final stock ${o.finalStock}, ${o.errors} other errors — ${
        o.ok ? "exactly the stock was sold" : "**wrong**"
      }.`,
    );
  }
  md.push("");

  if (r.evaluation.length) {
    md.push(
      "## The lab's evaluation: query and buy latency by p",
      "",
      "The load client (16 sessions, seed 42) for a fixed time per p; each session queries a random toy (some unknown) and buys it with probability p when in stock; every order is then read back and checked. For each p the run with the cache on is followed at once by the run with it off (api restarted with `CACHE_ENABLED=false`).",
      "",
      `![evaluation p50](${rel("evaluation-p50.svg")})`,
      "",
      `![evaluation p99](${rel("evaluation-p99.svg")})`,
      "",
      "| cache | p | queries | query p50 | query p99 | buys | buy p50 | buy p99 | requests/s | errors | orders checked |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
      ...[...r.evaluation].sort((a, b) => (a.cache === b.cache ? a.p - b.p : a.cache === "on" ? -1 : 1)).map((
        e,
      ) =>
        `| ${e.cache} | ${e.p} | ${n0(e.queries)} | ${ms(e.query.p50)} | ${ms(e.query.p99)} | ${
          n0(e.buys)
        } | ${ms(e.buy.p50)} | ${ms(e.buy.p99)} | ${n0(e.throughput)} | ${e.errors} | ${
          e.ok ? "all match" : `${e.mismatches} mismatched`
        } |`
      ),
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

  const cpuScen = Object.keys(r.cpuAt32).filter((sc) =>
    r.runs.some((x) => x.scenario === sc && x.connections === 32)
  );
  if (cpuScen.length) {
    const per = Object.fromEntries(cpuScen.map((sc) => [sc, cpuPerRequest(r, sc)]));
    const order = Object.keys(r.rss.idleKb);
    const names = [
      ...new Set(cpuScen.flatMap((sc) => Object.entries(per[sc]!).filter(([, v]) => v >= 1).map(([n]) => n))),
    ]
      .sort((a, b) => order.indexOf(a) - order.indexOf(b));
    md.push(
      "## Where the CPU goes (32 connections)",
      "",
      `CPU time (user + system, from /proc/<pid>/stat) each process used per request during the ${r.seconds} s run at 32 connections, in µs. wrk's own share is not included. It moves far less than throughput when other work shares the machine.`,
      "",
      `| process | ${cpuScen.map((sc) => LABELS[sc] ?? sc).join(" | ")} |`,
      `|---|${cpuScen.map(() => "---:").join("|")}|`,
      ...names.map((n) => `| ${n} | ${cpuScen.map((sc) => per[sc]![n] ?? 0).join(" | ")} |`),
      `| **all** | ${cpuScen.map((sc) => `**${sum(per[sc]!)}**`).join(" | ")} |`,
      "",
    );
  }
  md.push(
    "## What changed",
    "",
    "This file holds only what this run measured. What was changed to get here, with the figures before and after each change, is in the commit messages and in the hand-written [`performance-notes.md`](performance-notes.md).",
    "",
  );
  writeFileSync(file, md.filter((l, i, a) => !(l === "" && a[i - 1] === "")).join("\n") + "\n");
}
