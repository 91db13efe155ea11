// Command-line and programmatic options, both checked by one valibot schema so that
// `bun run client` and `runClient()` accept exactly the same things.
import { parseArgs } from "node:util";
import * as v from "valibot";
import { freshSeed } from "./random.ts";

export const DEFAULT_URL = "http://127.0.0.1:8080";

export const USAGE = `Bazaar load client — the toy-store lab's client: queries products, buys some,
then checks every order it placed.

Usage: bun run client -- [options]

Options:
  --url URL          store to load (default ${DEFAULT_URL})
  --sessions N       concurrent client sessions (default 8)
  --iterations N     iterations per session (default 50; unlimited when --duration
                     is given without --iterations)
  --p P              probability 0..1 of buying a product that is in stock (default 0.3)
  --seed N           random seed 0..4294967295; the same seed gives the same choices
                     (default: a fresh one, printed in the report)
  --duration S       stop starting new iterations after S seconds
  --timeout S        per-request timeout in seconds (default 10)
  --json             print the final report as JSON on stdout
  --quiet            no progress on stderr
  --help             show this help

Exit status: 0 when every response was as the design says and every order matched,
1 on any unexpected error or order mismatch, 2 on bad options.`;

const MAX_SEED = 0xffffffff;

const num = (what: string) => v.number(`must be ${what}`);

const wholeNumber = (min: number, max: number, tooSmall = `must be at least ${min}`) =>
  v.pipe(
    num("a whole number"),
    v.integer("must be a whole number"),
    v.minValue(min, tooSmall),
    v.maxValue(max, `must be at most ${max}`),
  );

const seconds = v.pipe(
  num("a number of seconds"),
  v.finite("must be a number of seconds"),
  v.gtValue(0, "must be more than 0"),
);

/** Options as runClient takes them; everything is optional and has a default. */
export const OptionsSchema = v.object({
  url: v.optional(
    v.pipe(
      v.string("must be a URL"),
      v.url("must be a URL such as http://127.0.0.1:8080"),
      v.check((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL"),
      // A trailing slash would double up with the paths ("//products/…").
      v.transform((u) => u.replace(/\/+$/, "")),
    ),
    DEFAULT_URL,
  ),
  sessions: v.optional(wholeNumber(1, 10_000), 8),
  iterations: v.optional(wholeNumber(1, 1_000_000_000)),
  p: v.optional(
    v.pipe(
      num("a number from 0 to 1"),
      v.minValue(0, "must be from 0 to 1"),
      v.maxValue(1, "must be from 0 to 1"),
    ),
    0.3,
  ),
  seed: v.optional(wholeNumber(0, MAX_SEED, "must not be negative")),
  duration: v.optional(seconds),
  timeout: v.optional(v.pipe(seconds, v.maxValue(3600, "must be at most 3600")), 10),
  json: v.optional(v.boolean("must be true or false"), false),
  quiet: v.optional(v.boolean("must be true or false"), false),
});
export type ClientInput = v.InferInput<typeof OptionsSchema>;

/** Resolved options: every default filled in, the seed fixed. */
export type ClientOptions = {
  url: string;
  sessions: number;
  /** Per session; Infinity when only --duration limits the run. */
  iterations: number;
  p: number;
  seed: number;
  /** Seconds, or null for no limit. */
  duration: number | null;
  /** Seconds. */
  timeout: number;
  json: boolean;
  quiet: boolean;
};

export class OptionsError extends Error {
  override name = "OptionsError";
}

/** Check and complete options; throws OptionsError naming each bad option. */
export function resolveOptions(input: ClientInput = {}): ClientOptions {
  const result = v.safeParse(OptionsSchema, input);
  if (!result.success) {
    const flat = v.flatten<typeof OptionsSchema>(result.issues);
    const lines = Object.entries(flat.nested ?? {}).map(([key, msgs]) =>
      `--${key}: ${msgs?.[0] ?? "is invalid"}`
    );
    if (flat.root?.[0]) lines.unshift(flat.root[0]);
    throw new OptionsError(lines.join("\n") || "invalid options");
  }
  const o = result.output;
  return {
    url: o.url,
    sessions: o.sessions,
    iterations: o.iterations ?? (o.duration !== undefined ? Infinity : 50),
    p: o.p,
    seed: o.seed ?? freshSeed(),
    duration: o.duration ?? null,
    timeout: o.timeout,
    json: o.json,
    quiet: o.quiet,
  };
}

const NUMERIC = ["sessions", "iterations", "p", "seed", "duration", "timeout"] as const;

export type CliParse = { kind: "help" } | { kind: "run"; options: ClientOptions } | {
  kind: "error";
  message: string;
};

/** argv (without the runtime and script) → what to do. Never throws. */
export function parseCli(argv: readonly string[]): CliParse {
  // `bun run client -- --x` may hand the "--" through; it means nothing here.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        sessions: { type: "string" },
        iterations: { type: "string" },
        p: { type: "string" },
        seed: { type: "string" },
        duration: { type: "string" },
        timeout: { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { kind: "error", message: err instanceof Error ? err.message : String(err) };
  }
  if (values.help) return { kind: "help" };
  const input: Record<string, unknown> = { ...values };
  for (const key of NUMERIC) {
    const raw = values[key];
    // "" and "abc" become NaN, which the schema rejects as "must be a number".
    if (typeof raw === "string") input[key] = raw.trim() === "" ? NaN : Number(raw);
  }
  try {
    return { kind: "run", options: resolveOptions(input as ClientInput) };
  } catch (err) {
    if (err instanceof OptionsError) return { kind: "error", message: err.message };
    throw err;
  }
}
