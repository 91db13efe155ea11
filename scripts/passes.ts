// The passes of `bun run test` (scripts/test.ts runs them), which of them a command
// line asks for, and what runs after each: its own `after`, and once no later pass of
// the run needs the Docker engine, stopping the daemons the passes started — so a pass
// run alone (`--pass compose`) leaves none running, and a full run keeps the engine
// from the compose pass for the fresh one.

/**
 * One pass: a command whose exit code counts as one test, or bun test over test files
 * (counted from bun's own summary), less those matching `ignore` (globs). `before` runs
 * first (if it fails, so does the pass); `after` runs last whatever happened (a failure
 * counts as one). `system`: the pass needs the system packages (it is not run when they
 * could not be had).
 */
export type Pass = {
  name: string;
  env?: Record<string, string>;
  before?: string[];
  after?: string[];
  system?: boolean;
  /** It needs the Docker engine (its `before` starts the daemons when none runs). */
  engine?: boolean;
} & ({ command: string[] } | { tests: Tests; ignore?: string[] });

/** bun test over: the unit run (bunfig.toml's default), or these paths/filters under tests/ too. */
export type Tests = "units" | string[];

// The system tests that exercise the storefront and the read path, the admin site and
// the write API (sign-in, sessions, every admin write), and the one that checks every
// app really ran on Deno.
const DENO_FILES = [
  "tests/system/storefront",
  "tests/system/api.test.ts",
  "tests/system/admin.test.ts",
  "tests/system/sessions.test.ts",
  "tests/system/write-api.test.ts",
  "tests/system/admin-writes.test.ts",
  "tests/system/runtime",
];

export const DOCKER = ["bun", "tests/docker/main.ts"];

export const PASSES: Pass[] = [
  { name: "typecheck", command: ["bun", "run", "typecheck"] },
  { name: "format", command: ["bun", "run", "format:check"] },
  { name: "lint", command: ["bun", "run", "lint"] },
  { name: "units", tests: "units" },
  // tests/docker/ and tests/fresh/ need a Docker engine made ready first: passes of their own.
  {
    name: "compiled",
    system: true,
    before: ["bun", "scripts/build.ts"],
    env: { STACK_RUNTIME: "compiled" },
    tests: ["tests/"],
    ignore: ["tests/docker/**", "tests/swarm/**", "tests/fresh/**"],
  },
  { name: "deno", system: true, env: { STACK_DENO_APPS: "api,web,admin,admin-api" }, tests: DENO_FILES },
  // compose.yaml on a real engine (tests/docker/engine.ts: installed and started when
  // missing, stand-ins for the images no registry here serves): up --build, the checks,
  // then down -v. The engine stays for a later pass of the run that needs it (stepsAfter).
  {
    name: "compose",
    engine: true,
    before: [...DOCKER, "prepare"],
    env: { BAZAAR_DOCKER_PREPARED: "1" },
    tests: ["tests/docker/"],
    after: [...DOCKER, "down", "bazaar-test", "--keep-engine"],
  },
  // deploy/stack.yaml on a one-node swarm of the same engine (tests/swarm/stack.test.ts):
  // made a swarm manager after the compose stack is down, and none again after; and on
  // three nodes (nodes.test.ts): engines in containers of it, each in its own network
  // namespace, images through a registry, torn down after.
  {
    name: "swarm",
    engine: true,
    before: [...DOCKER, "prepare"],
    env: { BAZAAR_DOCKER_PREPARED: "1" },
    tests: ["tests/swarm/"],
    after: ["bun", "tests/swarm/main.ts", "down"],
  },
  // The README's quick start in a fresh container.
  {
    name: "fresh",
    engine: true,
    before: [...DOCKER, "prepare"],
    env: { BAZAAR_DOCKER_PREPARED: "1" },
    tests: ["tests/fresh/"],
  },
];

/**
 * The bun test command for a pass. bunfig.toml keeps tests/ out of a plain `bun test`;
 * --path-ignore-patterns replaces that list (empty: nothing ignored), so the paths given
 * select any test file (node_modules stays out: bun skips it regardless).
 */
export const bunTest = (tests: Tests, ignore: string[] = []) =>
  tests === "units" ? ["bun", "test"] : [
    "bun",
    "test",
    ...(ignore.length ? ignore.map((g) => `--path-ignore-patterns=${g}`) : ["--path-ignore-patterns="]),
    ...tests,
  ];

/** The passes a command line asks for (test.ts's usage), or why it cannot be run. */
export function planFor(args: readonly string[]): { plan: Pass[] } | { error: string } {
  const at = args.indexOf("--pass");
  const only = at >= 0 ? args[at + 1] : undefined;
  const paths = args.filter((a, i) => a !== "--pass" && args[i - 1] !== "--pass" && a !== "--");
  if (only) {
    const pass = PASSES.find((p) => p.name === only);
    if (!pass) return { error: `no pass "${only}" (passes: ${PASSES.map((p) => p.name).join(", ")})` };
    if (paths.length && "command" in pass) {
      return { error: `pass ${only} runs a command and takes no test paths` };
    }
    return { plan: [paths.length ? { ...pass, tests: paths, ignore: [] } : pass] };
  }
  if (paths.length) return { plan: [{ name: "files", system: true, tests: paths }] };
  return { plan: PASSES };
}

/** Stops the Docker daemons the passes started (only those: tests/docker/engine.ts). */
export const STOP_ENGINE = [...DOCKER, "stop-engine"];

/**
 * The commands after the pass at `index` of `plan`, whatever happened in it: its own
 * `after`, then STOP_ENGINE if it needed the engine and no later pass of the plan does.
 */
export function stepsAfter(plan: readonly Pass[], index: number): string[][] {
  const pass = plan[index]!;
  const steps = pass.after ? [pass.after] : [];
  if (pass.engine && !plan.slice(index + 1).some((p) => p.engine)) steps.push(STOP_ENGINE);
  return steps;
}
