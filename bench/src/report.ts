// docs/performance.md from one bench run: the tables, the targets, the charts.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PER_PAGE } from "../../lib/src/schemas.ts";
import { MIX, type WrkResult } from "./wrk.ts";
import { barChart, lineChart } from "./svg.ts";
import type { CatalogCounts, Checks, LeaseStats, RelayCounts, TierCounts } from "./counts.ts";
import type { Staleness } from "./staleness.ts";
import type { PrefixClear } from "./prefix-clear.ts";
import type { Acks, CpuUs, Sequential } from "./acks.ts";
import type { RssSample } from "./procs.ts";
import { usPerRequest } from "./say.ts";

export type Run = WrkResult & {
  scenario: string;
  /** CPU µs per request over every process of the stack (absent in older results). */
  cpuUs?: number;
};
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
  /** Absent in results from before the catalogue was in Redis (as are the two below). */
  staleness?: Staleness;
  prefixClears?: PrefixClear[];
  /** Purchases waiting for the web servers' acknowledgements: only with the orders scenario (absent before issue 24). */
  acks?: Acks;
  /** Each web server's lease after the warm-up, before the runs (absent before issue 24). */
  leases?: { web: string; lease: LeaseStats | null }[];
  /** Only with --items. */
  bigCatalogue?: BigCatalogue;
  /** Only with --cluster (absent in results from before it). */
  cluster?: ClusterResults;
};

/** Galera's counters on the writer over one run (SHOW GLOBAL STATUS, after − before). */
export type GaleraCounts = {
  writesets: number;
  bytes: number;
  certFailures: number;
  bfAborts: number;
  flowControlPausedNs: number;
};

/** A `kill -9` of the writer under purchases (bench/src/cluster.ts). */
export type Failover = {
  /** wrk's connections buying meanwhile, and the buyers that timed each purchase. */
  connections: number;
  buyers: number;
  /** From the kill to the first purchase begun after it and acknowledged (null: none was). */
  firstAckMs: number | null;
  /** From the kill to the killed node's probe passing again (null: not within the limit). */
  syncedAgainMs: number | null;
  /** Whether it came back by IST (only what it missed), not a full copy. */
  ist: boolean;
  /**
   * The buyers' answers by status ("0": none came) and by when they came: before the
   * kill, until the first acknowledged purchase, until the node was Synced again, after.
   */
  answers: Record<"before" | "failover" | "degraded" | "failback", Record<string, number>>;
  /** When, in ms after the kill, the first and the last answer of each count came. */
  spans: Record<"before" | "failover" | "degraded" | "failback", Record<string, [number, number]>>;
  /** wrk's purchases over the whole measurement. */
  wrk: Run;
  /** 504s (outcome unknown), and how many of them were found placed by their request id. */
  inDoubt: number;
  inDoubtPlaced: number;
  /** The buyers' acknowledged orders (with the 504s found placed), those not in the database, numbers seen twice. */
  acknowledged: number;
  missing: number;
  duplicates: number;
};

/** --cluster: the purchases again with three database nodes, and a failover. */
export type ClusterResults = {
  nodes: number;
  /** Seconds the stack took to start (fresh: the first node seeded, the others copied). */
  startSeconds: number;
  runs: Run[];
  /** CPU seconds of each process, by run ("orders 32"). */
  cpu: Record<string, Record<string, number>>;
  /** Galera's counters on the writer, by run ("orders 32"). */
  galera: Record<string, GaleraCounts>;
  /**
   * The purchases acknowledged in the POST /orders runs and the failover (wrk's 200s, the
   * buyers' and their 504s found placed), and the bench items' orders and stock after both.
   */
  orders: { acknowledged: number; placed: number; units: number; stockDrop: number; ok: boolean };
  rss: { idleKb: Record<string, number>; loadKb: Record<string, number> };
  failover: Failover;
};

/** --items: N more items, the runs at 32 connections again, then a long mixed load with memory sampled. */
export type BigCatalogue = {
  count: number;
  insertSeconds: number;
  relayedSeconds: number;
  /** Times the relay dropped the whole catalogue while they went in. */
  dropped: number;
  /** How many of the loaded items the product reads used, beside the ten toys. */
  sample: number;
  /** The storefront's first page, in bytes, before and after the load. */
  pageBytes: { before: number; after: number };
  runs: Run[];
  batching: Batching[];
  /** CPU µs per request of each process, per run. */
  cpuUs: Record<string, Record<string, number>>;
  soak: {
    seconds: number;
    run: Run;
    counts: TierCounts;
    samples: RssSample[];
    /** What each web server held at the end. */
    held: { entries: number; bytes: number }[];
  };
};

export const LABELS: Record<string, string> = {
  ceiling: "ceiling (fixed page)",
  home: "GET /",
  product: "GET /products/:name",
  "product-off": "GET /products/:name, cache off",
  orders: "POST /orders",
  lookup: "GET /orders/:number",
  mixed: "mixed: reads and purchases",
  "product-spread": "GET /products/:name, over a thousand names",
};
const ORDER = ["ceiling", "home", "product", "product-off", "orders", "lookup", "mixed"];

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

/** The tiers whose CPU per request a comparison names (the store's processes, grouped). */
const TIERS: [string, string[] | undefined][] = [
  ["all", undefined],
  ["web-1 + web-2", ["web-1", "web-2"]],
  ["HAProxy", ["proxy"]],
  ["api", ["api"]],
  ["bridge + Redis", ["cache", "redis"]],
  ["MariaDB", ["db"]],
];
/** CPU µs per request of a run with ten toys and with the big catalogue, tier by tier. */
const cpuCompared = (r: Results, big: BigCatalogue, s: string) => {
  const ten = cpuPerRequest(r, s === "product-spread" ? "product" : s);
  const had = Object.keys(ten).length > 0;
  return TIERS.map(([name, procs]) => ({
    name,
    text: `${had ? sum(ten, procs) : "–"} → ${sum(big.cpuUs[s] ?? {}, procs)}`,
  }));
};

/** What the tiers counted during one run: the web servers' requests and coalesced checks, the api's catalogue reads. */
export type Batching = {
  scenario: string;
  connections: number;
  web: Checks;
  /** Catalogue reads the web servers answered from memory, with no check (absent before issue 24). */
  fromMemory?: number;
  /** The api's own checks: only in results from before the catalogue was in Redis. */
  api?: Checks;
  catalog?: CatalogCounts;
  relay?: RelayCounts;
};

const perCheck = (x: Checks) => (x.checks ? (x.requests / x.checks).toFixed(1) : "–");

/** MySQL statements per catalogue read, or the share of reads answered from Redis alone; null: no reads. */
const perRead = (
  c: CatalogCounts | undefined,
  x: "db_queries" | "hits",
) => (c?.reads ? c[x] / c.reads : null);
export const queriesPerRead = (c?: CatalogCounts) => {
  const x = perRead(c, "db_queries");
  return x === null ? "–" : x === 0 ? "0" : x < 0.001 ? x.toExponential(1) : x.toFixed(3);
};
export const hitRatio = (c?: CatalogCounts) => {
  const x = perRead(c, "hits");
  return x === null ? "–" : `${(x * 100).toFixed(1)}%`;
};
/** Why reads went to MySQL during a run: what the api and its relay counted. */
const missesWhy = (b: Batching) =>
  `${n0(b.catalog!.reads - b.catalog!.hits)} of ${
    n0(b.catalog!.reads)
  } reads were not answered from Redis alone (${n0(b.catalog!.db_queries)} MySQL statements); ${
    n0(b.catalog!.untrusted)
  } were made while Redis had no freshness mark, ${
    n0(b.catalog!.fills)
  } entries were filled, and the relay dropped the catalogue ${b.relay?.dropped ?? "–"} times, brought ${
    b.relay?.updated ?? "–"
  } entries forward and failed ${b.relay?.failed ?? "–"} cycles during the run`;

/** The run's counts of a scenario at some connection count. */
const batchAt = (bs: Batching[] | undefined, s: string, c: number) =>
  bs?.find((b) => b.scenario === s && b.connections === c && b.catalog);

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
  out.push(...cacheTargets(r));
  const f = r.cluster?.failover;
  if (f) {
    out.push({
      what: `a \`kill -9\` of the writer under purchases, ${r.cluster!.nodes} database nodes`,
      goal: "purchases resume; every acknowledged order stored, none numbered twice",
      measured: `first purchase acknowledged ${
        f.firstAckMs === null ? "never" : `${(f.firstAckMs / 1000).toFixed(2)} s`
      } after the kill; ${
        n0(f.acknowledged)
      } acknowledged, ${f.missing} missing, ${f.duplicates} numbered twice`,
      met: f.firstAckMs !== null && f.missing === 0 && f.duplicates === 0 && r.cluster!.orders.ok,
    });
  }
  const big = r.bigCatalogue;
  const bigRuns = big ? [...big.runs, big.soak.run] : [];
  const clusterRuns = r.cluster?.runs ?? [];
  const wrkErrors = [...r.runs, ...bigRuns, ...clusterRuns].reduce((n, x) => n + x.errors, 0) +
    (r.oversell?.errors ?? 0);
  const evalErrors = r.evaluation.reduce((n, x) => n + x.errors + x.mismatches, 0);
  out.push({
    what: "errors",
    goal: "zero in every run",
    measured: `${wrkErrors} in the wrk runs, ${evalErrors} errors or mismatches in the client runs`,
    met: wrkErrors === 0 && evalErrors === 0,
  });
  return out;
}

/** The share of the web servers' catalogue reads answered from memory (the rest waited for a check); null: not counted. */
export const fromMemoryShare = (b?: Batching) => {
  if (b?.fromMemory === undefined) return null;
  const all = b.fromMemory + b.web.requests;
  return all ? b.fromMemory / all : null;
};
const memoryText = (b?: Batching) => {
  const x = fromMemoryShare(b);
  return x === null
    ? "reads from memory not counted"
    : `${(x * 100).toFixed(1)}% of catalogue reads from memory (${n0(b!.fromMemory!)}; ${
      n0(b!.web.checks)
    } checks for the other ${n0(b!.web.requests)})`;
};

/** Where a read's CPU goes against the ceiling's, and the share the CPU alone would allow on a saturated machine. */
const cpuWhy = (r: Results, s: string, b?: Batching) => {
  const [store, ceil] = [cpuPerRequest(r, s), cpuPerRequest(r, "ceiling")];
  const [all, ceilAll] = [sum(store), sum(ceil)];
  return `CPU per request across every process: ${all} µs against the ceiling's ${ceilAll} µs — HAProxy ${
    sum(store, ["proxy"])
  } µs against the ceiling's HAProxy ${sum(ceil, ["ceiling-proxy"])} µs, web-1 + web-2 ${
    sum(store, ["web-1", "web-2"])
  } µs against its fixed-page servers' ${sum(ceil, ["ceiling-1", "ceiling-2"])} µs, api ${
    sum(store, ["api"])
  } µs; with the CPU saturated that alone allows ${all ? pct(ceilAll / all) : "–"} of the ceiling. ${
    memoryText(b)
  }.`;
};

/** A share of the ceiling above 100 %: the two runs, minutes apart, met different loads; the CPU per request compares them better. */
const DISTURBED = (r: Results, s: string) =>
  ` (above 100%: the machine's other work weighed on the two runs unequally; CPU per request ${
    sum(cpuPerRequest(r, s))
  } µs against the ceiling's ${sum(cpuPerRequest(r, "ceiling"))} µs)`;

/** Issue 24's targets: the reads against the ceiling at 32 and 1 connection, and what a write waits for acknowledgements. */
export function issue24Targets(r: Results): Target[] {
  const at = (s: string, c: number) => r.runs.find((x) => x.scenario === s && x.connections === c);
  const out: Target[] = [];
  for (const s of ["home", "product"]) {
    const [c32, ceil32, c1, ceil1] = [at(s, 32), at("ceiling", 32), at(s, 1), at("ceiling", 1)];
    const counted = (c: number) => r.batching?.find((x) => x.scenario === s && x.connections === c);
    const b = counted(32);
    if (c32 && ceil32) {
      const x = c32.rps / ceil32.rps;
      out.push({
        what: `${LABELS[s]}, 32 connections: share of the ceiling`,
        goal: "≥ 70%",
        measured: `${n0(c32.rps)} vs ${n0(ceil32.rps)} req/s: ${pct(x)}${x > 1 ? DISTURBED(r, s) : ""}; ${
          memoryText(b)
        }`,
        met: x >= 0.7,
        why: cpuWhy(r, s, b),
      });
      out.push({
        what: `${LABELS[s]}, 32 connections: p99`,
        goal: "< 3 ms",
        measured: `p50 ${ms(c32.p50)} ms, p99 ${ms(c32.p99)} ms, max ${ms(c32.max)} ms`,
        met: c32.p99 < 3,
        why: `32 requests always in flight: the mean latency is 32 ÷ throughput (Little's law), ${
          ms(32000 / c32.rps)
        } ms at ${n0(c32.rps)} req/s; the p99 was ${
          (c32.p99 / Math.max(c32.p50, 0.001)).toFixed(1)
        } × the p50.`,
      });
    }
    if (c1 && ceil1) {
      const x = c1.rps / ceil1.rps;
      const b1 = counted(1);
      out.push({
        what: `${LABELS[s]}, 1 connection: share of the ceiling at 1 connection`,
        goal: "≥ 50%",
        measured: `${n0(c1.rps)} vs ${n0(ceil1.rps)} req/s: ${pct(x)} (p50 ${ms(c1.p50)} vs ${
          ms(ceil1.p50)
        } ms${x > 1 ? "; above 100%: the machine's other work weighed on the two runs unequally" : ""}); ${
          memoryText(b1)
        }`,
        met: x >= 0.5,
        why: `one request at a time: the p50 was ${ms(c1.p50)} ms against the ceiling's ${
          ms(ceil1.p50)
        } ms, ${((c1.p50 - ceil1.p50) * 1000).toFixed(0)} µs more per request; ${memoryText(b1)}.`,
      });
    }
  }
  const a = r.acks;
  if (a) {
    const { on, off } = a.sequential;
    out.push({
      what:
        `a write's extra latency from waiting for acknowledgements (purchases one at a time, ${a.cycles} blocks of ${a.purchases} each way)`,
      goal: "p99 reported",
      measured: `memory on p50 ${ms(on.p50)} ms, p99 ${ms(on.p99)} ms; off p50 ${ms(off.p50)} ms, p99 ${
        ms(off.p99)
      } ms: ${signed(on.p50 - off.p50)} ms at the p50, ${signed(on.p99 - off.p99)} ms at the p99`,
      met: on.count > 0 && off.count > 0 && !a.problems?.length,
      why: a.problems?.length ? `${problemsText(a.problems)}` : undefined,
    });
    const p = pausedSummary(a);
    out.push({
      what: `a purchase with a web server paused (\`kill -STOP\` of web-1, ${a.paused.rounds.length} times)`,
      goal:
        `bounded by one grant: none over ${a.paused.grantMs} ms (+ ${a.paused.slackMs} ms for the purchase itself)`,
      measured: `${n0(p.count)} purchases: max ${ms(p.max)} ms, p50 ${ms(p.p50)} ms; ${p.over} over ${
        a.paused.grantMs + a.paused.slackMs
      } ms; ${p.errors} failed`,
      met: p.count > 0 && p.over === 0 && p.errors === 0 && !a.problems?.length,
      why: `the first purchase after each pause waits for web-1's grant to run out: ${
        a.paused.rounds.map((x) => `${ms(x.ms[0])} ms`).join(", ")
      }.${a.problems?.length ? ` ${problemsText(a.problems)}` : ""}`,
    });
  }
  return out;
}

/** The web servers that held no grant when one was awaited: the figures after it do not measure the wait. */
const problemsText = (problems: string[]) =>
  `A web server with its memory on held no grant when one was awaited, so the figures after it do not measure the wait as they should: ${
    problems.join("; ")
  }.`;

const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;

/** Every purchase with web-1 paused, all rounds together. */
function pausedSummary(a: Acks) {
  const all = a.paused.rounds.flatMap((x) => x.ms);
  const bound = a.paused.grantMs + a.paused.slackMs;
  return {
    count: all.length,
    max: all.length ? Math.max(...all) : null,
    p50: median(all),
    over: all.filter((x) => x > bound).length,
    errors: a.paused.rounds.reduce((n, x) => n + x.errors, 0),
  };
}

/** A warning when the machine had more work than cores when the run began: its figures swing. */
const busy = (r: Results) => {
  const load = r.machine.loadBefore[0] ?? 0;
  return load > r.machine.cores
    ? ` **The machine was busy:** load average ${
      r.machine.loadBefore.join(" / ")
    } on ${r.machine.cores} cores before the run — other work took CPU from the store and the ceiling alike, so throughput, and above all the p99s, swing from run to run; the CPU per request moves less.`
    : "";
};

/** What each web server's lease said after the warm-up: memory answers only inside a grant. */
const leasesLine = (leases: NonNullable<Results["leases"]>) =>
  `After the warm-up, before the runs: ${
    leases.map(({ web, lease }) =>
      !lease
        ? `${web} had its memory off`
        : `${
          lease.valid ? `${web} held a grant` : `**${web} held no grant**`
        } (${lease.streams} stream(s) opened, ${lease.changes} changes applied, ${lease.resets} resets; ${lease.renewals} renewals, ${lease.granted} granted, ${lease.refused} refused)`
    ).join("; ")
  }.`;

function issue24Section(r: Results): string[] {
  const ts = issue24Targets(r);
  if (!ts.length) return [];
  return [
    "## Issue 24's targets",
    "",
    `The reads against the ceiling measured in this run, minutes apart ([below](#throughput-and-latency-through-haproxy)), and a write's wait for the web servers' acknowledgements ([below](#waiting-for-web-servers-acknowledgements)). The share of catalogue reads a web server answered from its memory, inside a grant, with no check to the api, is counted by the web servers themselves (\`/healthz\` \`from_memory\`).${
      busy(r)
    }`,
    ...(r.leases ? ["", leasesLine(r.leases)] : []),
    "",
    "| target | goal | measured | met |",
    "|---|---|---|---|",
    ...ts.map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? "✅ yes" : "❌ no"} |`),
    "",
    ...ts.filter((t) => !t.met && t.why).flatMap((t) => [`**Why not — ${t.what}:** ${t.why}`, ""]),
  ];
}

/** The tiers a purchase's CPU is told by: the stack's own processes (the bench, here the buyer, left out). */
const ACK_TIERS: [string, string[]][] = [
  ["web-1 + web-2", ["web-1", "web-2"]],
  ["api", ["api"]],
  ["bridge + Redis", ["cache", "redis"]],
  ["MariaDB", ["db"]],
];
const cpuCells = (cpu?: CpuUs) => {
  if (!cpu) return [...ACK_TIERS.map(() => "–"), "–"].join(" | ");
  const stack = Object.keys(cpu).filter((n) => n !== "bench (launcher)");
  return [...ACK_TIERS.map(([, names]) => sum(cpu, names)), sum(cpu, stack)].join(" | ");
};
const cpuHeads = `${ACK_TIERS.map(([name]) => `CPU µs: ${name}`).join(" | ")} | CPU µs: all`;

function acksSection(a: Acks): string[] {
  const { on, off, blocks } = a.sequential;
  const each = (m: "on" | "off", q: "p50" | "p99") =>
    blocks.filter((b) => b.memory === m).map((b) => ms(b[q])).join(", ");
  const row = (what: string, s: Sequential) =>
    `| ${what} | ${n0(s.count)} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.errors} | ${
      n0(s.waits)
    } | ${s.waits ? (s.polls / s.waits).toFixed(1) : "–"} | ${cpuCells(s.cpuPerPurchase)} |`;
  const bound = a.paused.grantMs + a.paused.slackMs;
  const p = pausedSummary(a);
  return [
    "## Waiting for web servers' acknowledgements",
    "",
    `A purchase is answered only once every web server holding a grant has applied its change from the api's stream, or that grant has run out (\`lib/src/data/feed.ts\`; docs/internals.md, "Web's memory: leases"). Purchases one at a time through the store (HAProxy → web → api; quantity 1, round robin over the bench items), in blocks of ${a.purchases}: a block with the web servers' memory on, then one with web-1 and web-2 restarted with \`CATALOG_FROM_MEMORY=false\` (no grant held, so a write waits for no one: the api still asks Redis once whether anyone holds one), ${a.cycles} times in turn, so the machine's other work weighs on both alike; below, each one's blocks together. *Waits* and *polls* are the api's own counts (its \`/healthz\` \`feed\`): writes that waited for acknowledgements (a write whose own Redis step failed waits a fixed bound instead, uncounted), and its polls of Redis for them. CPU µs per purchase (user + system, from /proc) of the stack's processes, the bench itself (the buyer here) left out; at one connection it includes what the stack does anyway meanwhile (renewals, health checks).`,
    "",
    ...(a.problems?.length ? [`**${problemsText(a.problems)}**`, ""] : []),
    `| web servers' memory | purchases | p50 ms | p90 ms | p99 ms | max ms | errors | api: writes that waited | api: polls per wait | ${cpuHeads} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    row("on", on),
    row("off", off),
    "",
    `Extra latency of waiting for acknowledgements, on − off: **${signed(on.p50 - off.p50)} ms at the p50, ${
      signed(on.p99 - off.p99)
    } ms at the p99**. Block by block, in the order run — p50 on: ${each("on", "p50")} ms; off: ${
      each("off", "p50")
    } ms; p99 on: ${each("on", "p99")} ms; off: ${
      each("off", "p99")
    } ms (how far the blocks of one kind differ is the noise).`,
    "",
    ...(a.at32
      ? [
        `At 32 connections (wrk, ${
          a.at32.on.seconds.toFixed(0)
        } s each, once, after the first block of each kind):`,
        "",
        `| web servers' memory | orders/s | p50 ms | p90 ms | p99 ms | max ms | errors | ${cpuHeads} |`,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...([["on", a.at32.on], ["off", a.at32.off]] as const).map(([what, x]) =>
          `| ${what} | ${n0(x.rps)} | ${ms(x.p50)} | ${ms(x.p90)} | ${ms(x.p99)} | ${
            ms(x.max)
          } | ${x.errors} | ${cpuCells(x.cpuPerPurchase)} |`
        ),
        "",
      ]
      : []),
    `**With a web server paused.** ${a.paused.rounds.length} times: once both web servers held a fresh grant, web-1 was paused (\`kill -STOP\`) for ${
      (a.paused.pauseMs / 1000).toFixed(1)
    } s while purchases went one at a time straight to web-2 (the proxy would send some to web-1), then resumed (\`SIGCONT\`). The first purchase waits for web-1's grant, which it can no longer renew, to run out — at most one grant (${a.paused.grantMs} ms) after its last renewal; later ones find no grant held by web-1 and wait for web-2 alone. ${
      n0(p.count)
    } purchases: max **${ms(p.max)} ms**, p50 ${
      ms(p.p50)
    } ms, **${p.over} over ${bound} ms**, ${p.errors} failed.`,
    "",
    "| pause | purchases | first five, ms | p50 ms | max ms | over " + bound + " ms | errors |",
    "|---:|---:|---|---:|---:|---:|---:|",
    ...a.paused.rounds.map((x, i) =>
      `| ${i + 1} | ${x.ms.length} | ${x.ms.slice(0, 5).map(ms).join(", ")} | ${ms(median(x.ms))} | ${
        ms(x.ms.length ? Math.max(...x.ms) : null)
      } | ${x.ms.filter((y) => y > bound).length} | ${x.errors} |`
    ),
    "",
    `Every purchase acknowledged here (${n0(a.acknowledged)}) is stored: ${
      n0(a.stored)
    } orders in the database${a.stored >= a.acknowledged ? "" : " — **fewer than acknowledged**"}.`,
    "",
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? null;

/** The catalogue in Redis: MySQL untouched by reads, hits under sales, staleness when cut off, a big catalogue. */
function cacheTargets(r: Results): Target[] {
  const out: Target[] = [];
  const readOnly = ["home", "product"].flatMap((s) => {
    const b = batchAt(r.batching, s, 32);
    return b ? [b] : [];
  });
  if (readOnly.length) {
    out.push({
      what:
        "MySQL queries per catalogue read after warm-up, read-only load (GET / and GET /products/:name, 32 connections)",
      goal: "0",
      measured: readOnly.map((b) =>
        `${LABELS[b.scenario]}: ${n0(b.catalog!.db_queries)} statements for ${n0(b.catalog!.reads)} reads`
      ).join("; "),
      met: readOnly.every((b) => b.catalog!.db_queries === 0),
      why: readOnly.filter((b) => b.catalog!.db_queries > 0).map((b) =>
        `${LABELS[b.scenario]}: ${missesWhy(b)}.`
      )
        .join(" "),
    });
  }
  const mix = batchAt(r.batching, "mixed", 32);
  if (mix) {
    const ratio = perRead(mix.catalog, "hits") ?? 0;
    out.push({
      what:
        "catalogue hit ratio under the mixed load (reads and purchases of the same items), 32 connections",
      goal: "≥ 95%",
      measured: `${hitRatio(mix.catalog)}: ${n0(mix.catalog!.hits)} of ${
        n0(mix.catalog!.reads)
      } reads from Redis alone, ${queriesPerRead(mix.catalog)} MySQL queries per read`,
      met: ratio >= 0.95,
      why: `${missesWhy(mix)}.`,
    });
  }
  const st = r.staleness;
  if (st) {
    const seen = st.writes.map((w) => w.seenMs ?? Infinity);
    const worst = Math.max(...seen);
    const stale = st.writes.reduce((n, w) => n + w.staleAfterAnswer, 0);
    const relayed = st.writes.filter((w) => w.cache === "relayed").length;
    out.push({
      what:
        `a price correction with admin-api cut off from Redis (${st.writes.length} writes, ${st.readers} readers)`,
      goal: "largest staleness seen ≤ 250 ms; no read begun after the answer shows an older price",
      measured: `largest ${worst === Infinity ? "never seen" : `${ms(worst)} ms`}, p50 ${
        ms(median(seen))
      } ms; ${stale} reads stale after an answer; ${relayed} of ${st.writes.length} answered "relayed"`,
      met: worst <= 250 && stale === 0 && relayed === st.writes.length,
      why: relayed < st.writes.length
        ? `only ${relayed} writes were relayed: the others reached Redis, so this did not measure the relay's bound.`
        : `the slowest: ${
          st.writes.filter((w) => (w.seenMs ?? Infinity) > 250).map((w) =>
            `${w.price.toFixed(2)} seen after ${ms(w.seenMs)} ms (answered after ${ms(w.answerMs)} ms)`
          ).join(", ") || "none above 250 ms"
        }.`,
    });
  }
  const big = r.bigCatalogue;
  if (big) {
    const ten = (s: string) => r.runs.find((x) => x.scenario === s && x.connections === 32);
    const bigRun = (s: string) => big.runs.find((x) => x.scenario === s);
    const ratio = (s: string) => {
      const a = ten(s);
      const b = bigRun(s);
      return a && b ? b.rps / a.rps : null;
    };
    const compare = (s: string) =>
      `${LABELS[s]} ${n0(bigRun(s)?.rps ?? 0)} vs ${ten(s) ? n0(ten(s)!.rps) : "–"} req/s (${
        ratio(s) === null ? "–" : pct(ratio(s)!)
      })`;
    const within = (s: string) => (ratio(s) ?? 0) >= 0.8;
    const items = n0(big.count);
    // Judged only beside this run's ten-toy figures (--only or --connections may leave them out).
    const reads = ["home", "product"].filter((s) => ratio(s) !== null);
    if (reads.length) {
      out.push({
        what: `${reads.map((s) => LABELS[s]).join(" and ")} with ${items} more items, 32 connections`,
        goal: "throughput within 20% of the ten-item figures",
        measured: reads.map(compare).join("; "),
        met: reads.every(within),
        why: `${
          reads.map((s) => {
            const b = big.batching.find((x) => x.scenario === s);
            const cpu = cpuCompared(r, big, s).map((t) => `${t.name} ${t.text}`).join(", ");
            return `${LABELS[s]}: hit ratio ${hitRatio(b?.catalog)}, ${
              queriesPerRead(b?.catalog)
            } MySQL queries per read; CPU µs per request, ten toys → ${items} more items: ${cpu}.`;
          }).join(" ")
        } The first page grew from ${n0(big.pageBytes.before)} to ${
          n0(big.pageBytes.after)
        } bytes: it lists up to ${PER_PAGE} items, and before the load the shop had fewer.`,
      });
    }
    if (ratio("orders") !== null) {
      out.push({
        what: `POST /orders with ${items} more items, 32 connections`,
        goal: "the same orders/s as with ten items (within 20%)",
        measured: compare("orders"),
        met: within("orders"),
      });
    }
    const end = big.soak.samples.at(-1)!.kb;
    const tiers = Object.keys(end);
    out.push({
      what: `resident memory after ${big.soak.seconds} s of mixed load over ${items} items`,
      goal: "< 300 MB each for web-1, web-2, api",
      measured: tiers.map((n) => `${n} ${mb(end[n])} MB`).join(", "),
      met: tiers.length > 0 && tiers.every((n) => end[n]! < 300 * 1024),
    });
  }
  return out;
}

function batchingSection(bs: Batching[]): string[] {
  const sorted = [...bs].sort((a, b) =>
    ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario) || a.connections - b.connections
  );
  return [
    "## Requests per check, and the catalogue's reads",
    "",
    "Inside a grant a web server answers a catalogue read from its memory when no change has touched the entry since it was checked (*from memory*: no call at all; `web/src/catalog-reader.ts`). Every other read is revalidated with the api, and the checks are coalesced: for one entry at most one check is in flight, and a request waits for the next check, one that started after it arrived (`lib/src/ui/revalidate.ts`); the web servers count the requests that needed an entry and the checks (`If-None-Match` to the api) made for them. The api answers each entry checked from Redis and reads MySQL only on a miss (`api/src/catalog-reads.ts`); it counts the entries asked for (items and pages), those answered from Redis alone (the hit ratio), and the MySQL statements made for them. All read from each tier's `/healthz` before and after the run.",
    "",
    "| request | connections | web: from memory | web: share from memory | web: requests checked | web: checks | web: requests per check | api: catalogue reads | api: hit ratio | api: MySQL queries | api: MySQL queries per read |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...sorted.map((b) =>
      `| ${LABELS[b.scenario] ?? b.scenario} | ${b.connections} | ${
        b.fromMemory === undefined ? "–" : n0(b.fromMemory)
      } | ${fromMemoryShare(b) === null ? "–" : `${(fromMemoryShare(b)! * 100).toFixed(1)}%`} | ${
        n0(b.web.requests)
      } | ${n0(b.web.checks)} | ${perCheck(b.web)} | ${b.catalog ? n0(b.catalog.reads) : "–"} | ${
        hitRatio(b.catalog)
      } | ${b.catalog ? n0(b.catalog.db_queries) : "–"} | ${queriesPerRead(b.catalog)} |`
    ),
    "",
  ];
}

/** GET /products/:name with the cache on and off, side by side at each connection count. */
function cacheOnOffSection(r: Results): string[] {
  const at = (s: string, c: number) => r.runs.find((x) => x.scenario === s && x.connections === c);
  const rows = r.connections.flatMap((c) => {
    const on = at("product", c);
    const off = at("product-off", c);
    if (!on || !off) return [];
    const q = (s: string) => queriesPerRead(batchAt(r.batching, s, c)?.catalog);
    return [
      `| ${c} | ${n0(on.rps)} | ${n0(off.rps)} | ${ms(on.p50)} | ${ms(off.p50)} | ${ms(on.p99)} | ${
        ms(off.p99)
      } | ${q("product")} | ${q("product-off")} |`,
    ];
  });
  if (!rows.length) return [];
  return [
    "## Cache on and off",
    "",
    "GET /products/:name over the ten toys with the catalogue in Redis (on), and right after with the api restarted with `CACHE_ENABLED=false` (off: every entry from MySQL; the items one check asks for in one statement), at each connection count.",
    "",
    "| connections | req/s on | req/s off | p50 ms on | p50 ms off | p99 ms on | p99 ms off | MySQL queries per read on | MySQL queries per read off |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ];
}

function stalenessSection(st: Staleness): string[] {
  const seen = st.writes.map((w) => w.seenMs ?? Infinity);
  const answers = st.writes.map((w) => w.answerMs);
  const worst = Math.max(...seen);
  return [
    "## A price correction with admin-api cut off from Redis",
    "",
    `admin-api restarted with \`UPSTASH_REDIS_REST_URL=http://127.0.0.1:9\` (a closed port), then ${st.writes.length} corrections of ${st.item}'s price (PATCH straight to admin-api), each ${st.gapMs} ms after the answer to the one before, while ${st.readers} readers read the item through the store (HAProxy → web → api) without pause: ${
      n0(st.reads)
    } reads, ${st.readErrors} of them failed or showed a price no write set. admin-api cannot clear the item's keys, so it waits out the relay's bound before it answers ("relayed"); the api's relay applies the write's outbox row meanwhile. **Staleness seen** runs from sending the write to the end of the first read begun after the send that showed the new price: an upper bound, as it includes the write's own commit and the read's round trip. Afterwards admin-api was given its Redis back; its next write answered "${st.restored}".`,
    "",
    `- Staleness seen: largest ${worst === Infinity ? "never seen" : `${ms(worst)} ms`}, p50 ${
      ms(median(seen))
    } ms.`,
    `- Answer time: largest ${ms(Math.max(...answers))} ms, p50 ${ms(median(answers))} ms.`,
    `- Reads begun after an answer that showed an older price: ${
      st.writes.reduce((n, w) => n + w.staleAfterAnswer, 0)
    }.`,
    "",
    "| write | price | cache | answer ms | staleness seen ms | reads after the answer showing an older price |",
    "|---:|---:|---|---:|---:|---:|",
    ...st.writes.map((w, i) =>
      `| ${i + 1} | ${w.price.toFixed(2)} | ${w.cache} | ${ms(w.answerMs)} | ${
        ms(w.seenMs)
      } | ${w.staleAfterAnswer} |`
    ),
    "",
  ];
}

function prefixSection(ps: PrefixClear[]): string[] {
  const most = ps.filter((p) => p.others === 0).at(-1)!;
  const empty = ps.find((p) => p.keys === 0 && p.others > 0);
  return [
    "## Clearing a prefix in Redis",
    "",
    "Three ways to clear what is under a key prefix, each one script call through the REST endpoint (the apps' `@upstash/redis` client → the bridge → Redis), timed on keys of the bench's own (`benchclear:item:<n>:v`, 120-byte values; deleted afterwards), the median of 3: (a) one Lua script that SCANs for the prefix and UNLINKs what it finds; (b) one INCR of a generation that every entry carries and readers compare (what `catalog:gen` is for the whole catalogue); (c) deleting one item's two keys (`…:v` and `…:lease`: clearing `catalog:item:<stem>:`, whose keys are known). *In Redis* is the script's own time (TIME at its start and end), during which Redis serves no one else.",
    "",
    "| keys under the prefix | other keys | (a) SCAN + UNLINK ms | (a) in Redis ms | (b) INCR generation ms | (b) in Redis ms | (c) one item's two keys ms | (c) in Redis ms |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...ps.map((p) =>
      `| ${n0(p.keys)} | ${n0(p.others)} | ${ms(p.scan.ms)} | ${ms(p.scan.redisMs)} | ${
        ms(p.generation.ms)
      } | ${ms(p.generation.redisMs)} | ${ms(p.item.ms)} | ${ms(p.item.redisMs)} |`
    ),
    "",
    `What the store does, and why: an item's prefix holds exactly two keys, so it is cleared by deleting them (c: ${
      ms(most.item.ms)
    } ms with ${
      n0(most.keys)
    } other keys under the prefix) — no scan, and the clear is part of the writer's one script; the whole catalogue by raising \`catalog:gen\` (b: ${
      ms(most.generation.ms)
    } ms however many keys, the old entries left to expire with their TTL); the list of pages by raising its floor (one SET, like b). A scan (a) held Redis for ${
      ms(most.scan.redisMs)
    } ms to clear ${n0(most.keys)} keys${
      empty
        ? `, and for ${ms(empty.scan.redisMs)} ms to find nothing under an empty prefix among ${
          n0(empty.others)
        } other keys: SCAN walks the whole keyspace, not the prefix`
        : ""
    }; every read and purchase waits meanwhile.`,
    "",
  ];
}

/** The connection count the three-node comparison is told at: 32 when both runs have it, else the largest both have. */
const comparedAt = (r: Results, cl: ClusterResults, s: string) =>
  cl.runs.filter((x) =>
    x.scenario === s && r.runs.some((y) => y.scenario === s && y.connections === x.connections)
  )
    .map((x) => x.connections).sort((a, b) => (a === 32 ? -1 : b === 32 ? 1 : b - a))[0];

/** The processes of the data tier: the one MariaDB, or the nodes, their probes and their HAProxy (`db`). */
const isDataTier = (name: string) => name === "db" || name.startsWith("db-");

/** The other processes as they came, then the nodes, their probes and last `db`. */
const dataTierLast = (a: string, b: string) =>
  Number(isDataTier(a)) - Number(isDataTier(b)) ||
  (!isDataTier(a) ? 0 : a === "db" ? 1 : b === "db" ? -1 : a.length - b.length || a.localeCompare(b));

/** Where a purchase's CPU went with three nodes against one, and what Galera counted: from the figures. */
function clusterWhy(r: Results, cl: ClusterResults, s: string): string {
  const c = comparedAt(r, cl, s);
  const one = r.runs.find((x) => x.scenario === s && x.connections === c);
  const three = cl.runs.find((x) => x.scenario === s && x.connections === c);
  if (c === undefined || !one || !three) return "";
  const cpu3 = usPerRequest(cl.cpu[`${s} ${c}`] ?? {}, three.requests);
  const cpu1 = c === 32 ? cpuPerRequest(r, s) : {};
  const nodes = Array.from({ length: cl.nodes }, (_, i) => `db-${i + 1}`);
  const probes = Object.keys(cpu3).filter((n) => n.startsWith("db-probe-"));
  const rest = (o: Record<string, number>) => sum(o) - sum(o, Object.keys(o).filter(isDataTier));
  const g = cl.galera[`${s} ${c}`];
  const low1 = cl.runs.find((x) => x.scenario === s && x.connections === 1);
  const one1 = r.runs.find((x) => x.scenario === s && x.connections === 1);
  const parts = [
    `At ${c} connections ${LABELS[s]} made ${pct(three.rps / one.rps)} of the one-node throughput (${
      n0(three.rps)
    } against ${n0(one.rps)} req/s), p50 ${ms(one.p50)} → ${ms(three.p50)} ms.`,
    Object.keys(cpu1).length
      ? `Per request the stack used ${one.cpuUs ?? sum(cpu1)} → ${
        three.cpuUs ?? sum(cpu3)
      } µs of CPU: the database ${cpu1.db ?? "–"} µs on one node against ${
        sum(cpu3, nodes)
      } µs on ${cl.nodes} (the writer db-1 ${
        cpu3["db-1"] ?? "–"
      } µs, the others, which apply its write-sets, ${
        sum(cpu3, nodes.slice(1))
      } µs), the data tier's HAProxy ${cpu3.db ?? "–"} µs, the probes ${
        sum(cpu3, probes)
      } µs; the rest of the stack ${rest(cpu1)} → ${rest(cpu3)} µs.`
      : "",
    g
      ? `Galera replicated ${n0(g.writesets)} write-sets (${
        (g.writesets / Math.max(1, three.requests)).toFixed(2)
      } per request, ${
        n0(g.bytes / Math.max(1, g.writesets))
      } bytes each), failed ${g.certFailures} in certification, aborted ${g.bfAborts} local transactions for a replicated one, and flow control paused the writer for ${
        n0(g.flowControlPausedNs / 1e6)
      } ms of the ${
        three.seconds.toFixed(1)
      } s (it waits while a node's queue of write-sets still to apply is over its limit).`
      : "",
    // Only where every request is a purchase: the mixed load's p50 is a read's.
    s === "orders" && low1 && one1
      ? `At one connection, where nothing queues, a purchase took ${
        ms(one1.p50)
      } ms (p50) with one node and ${ms(low1.p50)} ms with ${cl.nodes}: ${
        low1.p50 > one1.p50
          ? `the ${
            ms(low1.p50 - one1.p50)
          } ms between them is what ${cl.nodes} nodes add to each purchase, the commit's replication and certification and the HAProxy hop.`
          : `no cost of ${cl.nodes} nodes to tell in this run: the machine's other work swung the figures more.`
      }`
      : "",
  ];
  return parts.filter(Boolean).join(" ");
}

/** CPU µs per request of each process at 32 connections, one node against three, scenario by scenario. */
function clusterCpuTable(r: Results, cl: ClusterResults, scenarios: string[]): string[] {
  const both = scenarios.flatMap((s) => {
    const three = cl.runs.find((x) => x.scenario === s && x.connections === 32);
    const one = cpuPerRequest(r, s);
    return three && Object.keys(one).length
      ? [{ s, one, three: usPerRequest(cl.cpu[`${s} 32`] ?? {}, three.requests) }]
      : [];
  });
  if (!both.length) return [];
  const names = [...new Set(both.flatMap((b) => [...Object.keys(b.one), ...Object.keys(b.three)]))]
    .filter((n) => both.some((b) => (b.one[n] ?? 0) >= 1 || (b.three[n] ?? 0) >= 1)).sort(dataTierLast);
  const cell = (o: Record<string, number>, n: string) => (n in o ? String(o[n]) : "–");
  return [
    `CPU µs per request of each process at 32 connections (\`db\` is MariaDB with one node, the nodes' HAProxy with ${cl.nodes}):`,
    "",
    `| process | ${
      both.map((b) => `${LABELS[b.s] ?? b.s}, one node | ${LABELS[b.s] ?? b.s}, ${cl.nodes}`).join(" | ")
    } |`,
    `|---|${both.map(() => "---:|---:").join("|")}|`,
    ...names.map((n) =>
      `| ${n} | ${both.map((b) => `${cell(b.one, n)} | ${cell(b.three, n)}`).join(" | ")} |`
    ),
    `| **all** | ${both.map((b) => `**${sum(b.one)}** | **${sum(b.three)}**`).join(" | ")} |`,
    "",
  ];
}

/** Answers by status, e.g. "12 × 200, 3 × 503", with when the first and the last came (s after the kill). */
const statusList = (counts: Record<string, number>, spans: Record<string, [number, number]> = {}) =>
  Object.entries(counts).sort(([a], [b]) => Number(a) - Number(b))
    .map(([st, n]) =>
      `${n0(n)} × ${st === "0" ? "no answer" : st}${
        spans[st] ? ` (${[...new Set(spans[st].map((t) => (t / 1000).toFixed(2)))].join(" to ")} s)` : ""
      }`
    ).join(", ") || "none";

function clusterSection(r: Results, cl: ClusterResults): string[] {
  const one = (x: Run) => r.runs.find((y) => y.scenario === x.scenario && y.connections === x.connections);
  const scenarios = [...new Set(cl.runs.map((x) => x.scenario))];
  const f = cl.failover;
  const nodeProcs = Object.keys(cl.rss.idleKb).filter(isDataTier).sort(dataTierLast);
  const sec = (msOf: number | null) => (msOf === null ? "–" : (msOf / 1000).toFixed(2));
  const phases: [keyof Failover["answers"], string][] = [
    ["before", "before the kill"],
    [
      "failover",
      "from the kill until the first purchase begun after it was acknowledged (200s here: in flight at the kill)",
    ],
    ["degraded", "then until db-1 was Synced again"],
    ["failback", "in the 2 s after (the writes moved back to db-1)"],
  ];
  return [
    `## Three database nodes`,
    "",
    `After the runs above the bench stopped its stack and started it again with ${cl.nodes} database nodes (\`startStack({ dbNodes: ${cl.nodes} })\`, what \`DB_NODES=${cl.nodes} bun run local\` runs: MariaDB Galera, the apps reaching the nodes through the data tier's own HAProxy, one writer at a time; fresh data in \`.local/bench-cluster\`; up in ${
      cl.startSeconds.toFixed(1)
    } s), and ran the purchases again, ${r.seconds} s each, at the same connection counts, after the same warm-up. \`bun run bench -- --only orders,mixed --no-eval --items 0\` runs just these, with one node and then ${cl.nodes}.`,
    "",
    `| request | connections | req/s, one node | req/s, ${cl.nodes} nodes | ratio | p50 ms, one | p50 ms, ${cl.nodes} | p99 ms, one | p99 ms, ${cl.nodes} | errors, one | errors, ${cl.nodes} | CPU µs/request, one | CPU µs/request, ${cl.nodes} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...cl.runs.map((x) => {
      const o = one(x);
      return `| ${LABELS[x.scenario] ?? x.scenario} | ${x.connections} | ${o ? n0(o.rps) : "–"} | ${
        n0(x.rps)
      } | ${o ? pct(x.rps / o.rps) : "–"} | ${ms(o?.p50)} | ${ms(x.p50)} | ${ms(o?.p99)} | ${ms(x.p99)} | ${
        o?.errors ?? "–"
      } | ${x.errors} | ${o?.cpuUs ?? "–"} | ${x.cpuUs ?? "–"} |`;
    }),
    "",
    ...clusterCpuTable(r, cl, scenarios),
    ...scenarios.map((s) => clusterWhy(r, cl, s)).filter(Boolean).flatMap((t) => [t, ""]),
    `Orders: ${
      n0(cl.orders.acknowledged)
    } purchases were acknowledged in the POST /orders runs and the failover below (to wrk and to the buyers); ${
      n0(cl.orders.placed)
    } orders (${n0(cl.orders.units)} units) were stored and the stock went down by ${
      n0(cl.orders.stockDrop)
    }: ${cl.orders.ok ? "every acknowledged order stored, stock and orders agree" : "**they differ**"}.`,
    "",
    "### A `kill -9` of the writer under purchases",
    "",
    `wrk bought at ${f.connections} connections while ${f.buyers} buyers timed each of their purchases; then db-1, the writer, was killed with \`kill -9\` and the launcher restarted it. **The first purchase begun after the kill was acknowledged ${
      sec(f.firstAckMs)
    } s after it**; db-1 was Synced again after ${sec(f.syncedAgainMs)} s (${
      f.ist ? "by IST: only what it missed" : "not by IST"
    }). The buyers' answers, and when the first and the last of each came (s after the kill):`,
    "",
    "| answered | answers |",
    "|---|---|",
    ...phases.map(([k, what]) => `| ${what} | ${statusList(f.answers[k], f.spans[k])} |`),
    "",
    `${f.inDoubt} answers were 504 (the outcome unknown); looked up by their request id, ${f.inDoubtPlaced} had been placed. Of the ${
      n0(f.acknowledged)
    } orders acknowledged to the buyers (with those found), ${
      f.missing === 0 ? "every one is in the database" : `**${f.missing} are not in the database**`
    }, and ${
      f.duplicates === 0 ? "no number was given twice" : `**${f.duplicates} numbers were given twice**`
    }. wrk's purchases over the ${f.wrk.seconds.toFixed(1)} s: ${
      statusList(f.wrk.statuses)
    }, ${f.wrk.socketErrors} socket errors (timeouts after 5 s included).`,
    "",
    "Resident memory of the data tier's processes (as in [Memory](#memory): idle after the warm-up, the peak during the runs):",
    "",
    "| process | idle MB | peak under load MB |",
    "|---|---:|---:|",
    `| db, one node (MariaDB) | ${mb(r.rss.idleKb.db)} | ${mb(r.rss.loadKb.db)} |`,
    ...nodeProcs.map((p) =>
      `| ${p === "db" ? `db, ${cl.nodes} nodes (their HAProxy)` : p} | ${mb(cl.rss.idleKb[p])} | ${
        mb(cl.rss.loadKb[p])
      } |`
    ),
    "",
  ];
}

/** Per process, the memory samples thinned to about a dozen points for the chart. */
function memorySeries(samples: RssSample[]) {
  const step = Math.max(1, Math.ceil(samples.length / 12));
  const picked = samples.filter((_, i) => i % step === 0);
  // The last sample always, in place of a picked one too close to it for their labels.
  const last = samples.length - 1;
  if (last % step !== 0) {
    if (last % step < step / 2) picked.pop();
    picked.push(samples[last]!);
  }
  const names = Object.keys(samples.at(-1)?.kb ?? {});
  return {
    x: picked.map((p) => p.seconds),
    series: names.map((n) => ({ name: n, values: picked.map((p) => (p.kb[n] ?? 0) / 1024) })),
  };
}

function bigCatalogueSection(r: Results, big: BigCatalogue, chart: string): string[] {
  const ten = (s: string) => r.runs.find((x) => x.scenario === s && x.connections === 32);
  const { soak } = big;
  const samples = soak.samples;
  const names = Object.keys(samples.at(-1)?.kb ?? {});
  const near = (t: number) =>
    samples.reduce((a, b) => (Math.abs(b.seconds - t) < Math.abs(a.seconds - t) ? b : a));
  const marks = [0.25, 0.5, 0.75].map((f) => near(soak.seconds * f));
  const peak = (n: string) => Math.max(...samples.map((x) => x.kb[n] ?? 0));
  const heldBytes = soak.held.reduce((t, h) => t + h.bytes, 0);
  return [
    `## A big catalogue: ${n0(big.count)} more items`,
    "",
    `After the runs above and the lab's evaluation, ${
      n0(big.count)
    } items (Item 000001 …, quantity 1,000, price 9.99) were inserted into the database in one statement (${
      big.insertSeconds.toFixed(1)
    } s; the relay had applied the outbox ${
      big.relayedSeconds.toFixed(1)
    } s after the start, and dropped the whole catalogue ${big.dropped} time(s) meanwhile: a backlog longer than one of its cycles makes it drop once). After a 2 s warm-up, GET /, GET /products/:name (the ten toys, as in the runs above), GET /products/:name over a thousand names (the ten toys and ${
      n0(big.sample)
    } of the new items, evenly spread: each check carries more names), POST /orders and the mixed load (its reads over the thousand names) ran for ${r.seconds} s each at 32 connections; beside them, this run's figures with the ten toys, measured minutes earlier (the spread reads beside the ten toys' product reads).`,
    "",
    `| request | req/s, ten toys | req/s, ${
      n0(big.count)
    } more | ratio | p50 ms, ten | p50 ms, more | p99 ms, ten | p99 ms, more | errors, more | hit ratio, more | MySQL queries per read, more |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...big.runs.map((x) => {
      const t = ten(x.scenario === "product-spread" ? "product" : x.scenario);
      const b = big.batching.find((y) => y.scenario === x.scenario);
      return `| ${LABELS[x.scenario]} | ${t ? n0(t.rps) : "–"} | ${n0(x.rps)} | ${
        t ? pct(x.rps / t.rps) : "–"
      } | ${ms(t?.p50)} | ${ms(x.p50)} | ${ms(t?.p99)} | ${ms(x.p99)} | ${x.errors} | ${
        hitRatio(b?.catalog)
      } | ${queriesPerRead(b?.catalog)} |`;
    }),
    "",
    `CPU µs per request of each tier, ten toys → ${n0(big.count)} more items (the first page: ${
      n0(big.pageBytes.before)
    } → ${n0(big.pageBytes.after)} bytes):`,
    "",
    `| request | ${TIERS.map(([name]) => name).join(" | ")} |`,
    `|---|${TIERS.map(() => "---:").join("|")}|`,
    ...big.runs.map((x) =>
      `| ${LABELS[x.scenario]} | ${cpuCompared(r, big, x.scenario).map((t) => t.text).join(" | ")} |`
    ),
    "",
    `Then ${soak.seconds} s of the mixed load at 32 connections, half of its item reads going to a random one of all ${
      n0(big.count)
    } items: ${n0(soak.run.rps)} req/s, p50 ${ms(soak.run.p50)} ms, p99 ${
      ms(soak.run.p99)
    } ms, ${soak.run.errors} errors; hit ratio ${hitRatio(soak.counts.catalog)}, ${
      queriesPerRead(soak.counts.catalog)
    } MySQL queries per read; at the end the web servers held ${
      n0(soak.held.reduce((t, h) => t + h.entries, 0))
    } entries (${
      mb(heldBytes / 1024)
    } MB by their own estimate). Resident memory (VmRSS), sampled every second:`,
    "",
    `![memory under a big catalogue](${chart})`,
    "",
    `| process | at the start MB | after ${
      marks.map((m) => `${m.seconds.toFixed(0)} s`).join(" | after ")
    } | after ${samples.at(-1)!.seconds.toFixed(0)} s (end) | peak MB |`,
    "|---|---:|---:|---:|---:|---:|---:|",
    ...names.map((n) =>
      `| ${n} | ${mb(samples[0]!.kb[n])} | ${marks.map((m) => mb(m.kb[n])).join(" | ")} | ${
        mb(samples.at(-1)!.kb[n])
      } | ${mb(peak(n))} |`
    ),
    "",
  ];
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
  if (r.bigCatalogue) {
    charts["memory-big-catalogue.svg"] = lineChart({
      title: `Resident memory under mixed load over ${n0(r.bigCatalogue.count)} more items (MB)`,
      yLabel: "MB",
      xLabel: "seconds",
      ...memorySeries(r.bigCatalogue.soak.samples),
    });
  }
  for (const [name, svg] of Object.entries(charts)) writeFileSync(path.join(chartDir, name), svg);

  const md: string[] = [];
  md.push(
    "# Performance",
    "",
    `Measured by \`bun run bench -- --write${r.quick ? " --quick" : ""}\` on ${
      r.startedAt.slice(0, 10)
    } (${r.startedAt} – ${r.finishedAt}).`,
    r.quick ? "\n**Quick run: short runs, figures are rough.**\n" : "",
    `- **Machine:** ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}; load average ${
      r.machine.loadBefore.join(" / ")
    } before, ${
      r.machine.load.join(" / ")
    } after (the store, the ceiling and wrk share the 2 cores; absolute figures swing from run to run on a shared machine, so the **share of the ceiling**, measured minutes apart in the same run, is the comparable figure).`,
    `- **Load tool:** ${r.tools.wrk} (Debian), ${r.seconds} s per run, 2 threads (1 at one connection), with a Lua script that counts every response by status; the lab's evaluation uses the project's own load client (\`client/\`, \`runClient\`). ${r.tools.haproxy}; Bun ${r.tools.bun}.`,
    "- **Stack:** the local stack (`startStack`, ports 61xxx, fresh data): HAProxy → web-1/web-2 → api → MariaDB + Redis through the bridge, all on this one machine with wrk — the load generator takes CPU from the store, as it does from the ceiling.",
    `- **Ceiling:** the same \`proxy/haproxy.cfg\` run as a second HAProxy in front of two tiny Bun servers returning a fixed page (the storefront's ${
      n0(r.pageBytes)
    } bytes, captured at the start).`,
    r.runs.some((x) => x.scenario === "product-off")
      ? "- **Cache off:** GET /products/:name with the cache off is measured right after the same read with it on, at each connection count (the api restarted with `CACHE_ENABLED=false`, then back)."
      : "",
    r.runs.some((x) => x.scenario === "mixed")
      ? `- **Mixed:** reads and purchases of the same items, as the lab's clients make them: about ${
        pct(1 - MIX.page - MIX.buy)
      } GET /products/:name, ${pct(MIX.page)} GET /, ${
        pct(MIX.buy)
      } POST /orders (quantity 1), over the ten seeded toys, their stock set to 1,000,000 first (a 409 counts as an error).`
      : "",
    r.cluster
      ? `- **Three database nodes:** after the runs, the purchases again on the stack with ${r.cluster.nodes} MariaDB Galera nodes, and a \`kill -9\` of the writer under purchases ([below](#three-database-nodes)); \`bun run bench -- --only orders,mixed --no-eval --items 0\` runs just the purchases, with one node and with ${r.cluster.nodes}.`
      : "- **Three database nodes:** not measured in this run (`--cluster`, on by default in the full run; `bun run bench -- --only orders,mixed --no-eval --items 0` runs just the purchases, with one node and with three).",
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
    ...issue24Section(r),
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

  if (r.batching?.length) md.push(...batchingSection(r.batching));
  md.push(...cacheOnOffSection(r));

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
  if (r.cluster) md.push(...clusterSection(r, r.cluster));
  if (r.staleness) md.push(...stalenessSection(r.staleness));
  if (r.prefixClears?.length) md.push(...prefixSection(r.prefixClears));
  if (r.acks) md.push(...acksSection(r.acks));

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

  if (r.bigCatalogue) md.push(...bigCatalogueSection(r, r.bigCatalogue, rel("memory-big-catalogue.svg")));

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
