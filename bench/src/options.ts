// bun run bench -- [--quick] [--out docs/performance.md] [--only home,product,…]
import { parseArgs } from "node:util";

export const SCENARIOS = ["home", "product", "orders", "lookup", "product-off"] as const;
export type ScenarioKey = (typeof SCENARIOS)[number];
// product-off only on request: items are read from the database either way now (the
// row is its own version check), so it measures the same path as product.
const DEFAULT_SCENARIOS: ScenarioKey[] = ["home", "product", "orders", "lookup"];

export type BenchOptions = {
  quick: boolean;
  out: string;
  /** Seconds per wrk run. */
  seconds: number;
  connections: number[];
  only: ScenarioKey[];
  /** The lab's evaluation (runClient over p), cache on and off. */
  evaluation: boolean;
  /** Seconds per evaluation run. */
  evalSeconds: number;
  /** Only write the report again from a run's raw figures (results.json). */
  from?: string;
};

export const USAGE = `Bazaar benchmark: starts its own local stack (ports 4xxxx, data in .local/bench),
loads it with wrk, and writes docs/performance.md with tables and SVG charts.

Usage: bun run bench -- [options]
  --quick            short runs (2 s each) for a quick look
  --out FILE         where the report goes (default docs/performance.md; charts beside it)
  --only LIST        scenarios to run: ${SCENARIOS.join(",")} (default ${DEFAULT_SCENARIOS.join(",")})
  --connections LIST connection counts (default 1,8,32,128)
  --no-eval          skip the lab's evaluation (p sweep, cache on/off)
  --from FILE        no run: write the report again from a run's raw figures
                     (.local/bench/results.json)
  --help`;

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string", default: "docs/performance.md" },
      only: { type: "string" },
      connections: { type: "string", default: "1,8,32,128" },
      "no-eval": { type: "boolean", default: false },
      from: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const only = (values.only?.split(",") ?? [...DEFAULT_SCENARIOS]) as ScenarioKey[];
  for (const s of only) {
    if (!SCENARIOS.includes(s)) throw new Error(`--only: no scenario "${s}" (${SCENARIOS.join(", ")})`);
  }
  const connections = values.connections.split(",").map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new Error(`--connections: whole numbers, e.g. 1,8,32,128`);
  }
  return {
    quick: values.quick,
    out: values.out,
    seconds: values.quick ? 2 : 8,
    connections,
    only,
    evaluation: !values["no-eval"],
    evalSeconds: values.quick ? 1.5 : 5,
    from: values.from,
  };
}
