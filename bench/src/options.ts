// bun run bench -- [--write | --out FILE] [--quick] [--only home,product,…] [--items N] [--no-cluster]
import { parseArgs } from "node:util";

export const SCENARIOS = ["home", "product", "product-off", "orders", "lookup", "mixed"] as const;
export type ScenarioKey = (typeof SCENARIOS)[number];
/** The scenarios the three-node run repeats: the ones that buy. */
export const CLUSTER_SCENARIOS: readonly ScenarioKey[] = ["orders", "mixed"];
// product-off again by default: the catalogue is read from Redis, MySQL only on a
// miss, so cache on and off are two different paths, side by side in the report.
const DEFAULT_SCENARIOS: ScenarioKey[] = [...SCENARIOS];
/** The published report: written only when asked (--write), never by a look around. */
export const PUBLISHED_REPORT = "docs/performance.md";
/** Where the report goes otherwise (charts beside it, in performance/). */
export const LOCAL_REPORT = ".local/bench/performance.md";
/** Items the full run loads after its runs (--items); a quick run loads none unless asked. */
const DEFAULT_ITEMS = 100_000;

export type BenchOptions = {
  quick: boolean;
  /** Where the report goes: LOCAL_REPORT unless --write (PUBLISHED_REPORT) or --out says. */
  out: string;
  /** Seconds per wrk run. */
  seconds: number;
  connections: number[];
  only: ScenarioKey[];
  /** The lab's evaluation (runClient over p), cache on and off. */
  evaluation: boolean;
  /** Seconds per evaluation run. */
  evalSeconds: number;
  /** Items loaded after the runs, then home, product, orders and mixed again and 60 s of mixed load (0: none). */
  items: number;
  /**
   * After the one-node runs, the purchase scenarios of `only` again on a stack with
   * three database nodes (Galera), then a `kill -9` of the writer under purchases.
   */
  cluster: boolean;
  /** Only write the report again from a run's raw figures (results.json). */
  from?: string;
};

export const USAGE = `Bazaar benchmark: starts its own local stack (ports 61xxx, data in .local/bench),
loads it with wrk, and writes a report with tables and SVG charts: to
${LOCAL_REPORT}, or with --write to ${PUBLISHED_REPORT} (the published one). Every
run also corrects a price with admin-api cut off from Redis (the staleness readers
see) and times clearing a key prefix in Redis three ways; with the orders scenario,
what a purchase waits for the web servers' acknowledgements (their memory on, off,
on again; then web-1 paused).

Usage: bun run bench -- [options]        the full run behind ${PUBLISHED_REPORT}: bun run bench -- --write
  --write            write the report to ${PUBLISHED_REPORT} (charts in docs/performance/)
  --out FILE         write it to FILE instead (charts beside it; default ${LOCAL_REPORT})
  --quick            short runs (2 s each) for a quick look
  --only LIST        scenarios to run: ${SCENARIOS.join(",")} (default ${DEFAULT_SCENARIOS.join(",")})
  --connections LIST connection counts (default 1,8,32,128)
  --no-eval          skip the lab's evaluation (p sweep, cache on/off)
  --items N          then load N more items (Item 000001 …), run home, product, orders
                     and mixed again at 32 connections, then 60 s (20 with --quick) of
                     mixed load with web's and the api's memory sampled (default
                     ${DEFAULT_ITEMS.toLocaleString("en-US")}; with --quick 0; 0 skips it)
  --cluster          after all the above, the purchases (${CLUSTER_SCENARIOS.join(", ")}, those of --only)
                     again with three database nodes (a Galera cluster, data in
                     .local/bench-cluster), and a kill -9 of the writer under purchases:
                     the failover (default: on when --only has a purchase scenario, off
                     with --quick)
  --no-cluster       skip it
  --from FILE        no run: write the report again from a run's raw figures
                     (.local/bench/results.json)
  --help`;

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      write: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      connections: { type: "string", default: "1,8,32,128" },
      "no-eval": { type: "boolean", default: false },
      items: { type: "string" },
      cluster: { type: "boolean", default: false },
      "no-cluster": { type: "boolean", default: false },
      from: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  if (values.write && values.out !== undefined) {
    throw new Error(`--write and --out: one or the other (--write is --out ${PUBLISHED_REPORT})`);
  }
  const out = values.write ? PUBLISHED_REPORT : values.out ?? LOCAL_REPORT;
  const only = (values.only?.split(",") ?? [...DEFAULT_SCENARIOS]) as ScenarioKey[];
  for (const s of only) {
    if (!SCENARIOS.includes(s)) throw new Error(`--only: no scenario "${s}" (${SCENARIOS.join(", ")})`);
  }
  const connections = values.connections.split(",").map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new Error(`--connections: whole numbers, e.g. 1,8,32,128`);
  }
  const items = values.items === undefined ? (values.quick ? 0 : DEFAULT_ITEMS) : Number(values.items);
  if (!Number.isInteger(items) || items < 0 || items > 1_000_000) {
    throw new Error(`--items: a whole number from 0 to 1000000, e.g. 100000`);
  }
  const buys = only.some((s) => CLUSTER_SCENARIOS.includes(s));
  if (values.cluster && values["no-cluster"]) throw new Error("--cluster and --no-cluster: one or the other");
  if (values.cluster && !buys) {
    throw new Error(`--cluster repeats the purchases: --only must name ${CLUSTER_SCENARIOS.join(" or ")}`);
  }
  const cluster = values.cluster || (!values["no-cluster"] && !values.quick && buys);
  return {
    quick: values.quick,
    out,
    seconds: values.quick ? 2 : 8,
    connections,
    only,
    evaluation: !values["no-eval"],
    evalSeconds: values.quick ? 1.5 : 5,
    items,
    cluster,
    from: values.from,
  };
}
