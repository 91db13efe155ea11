// `bun run test`: every test, the way CI runs them. First the install step the launcher
// uses (local/src/system.ts): the system packages every pass needs — MariaDB, Redis,
// HAProxy, Chromium — installed once, up front, so no test ever installs anything.
// Then the passes of scripts/passes.ts, in order:
//   typecheck — tsc;
//   format    — `deno fmt --check` (deno.json's settings: one formatter for the tree);
//   lint      — `deno lint` (its recommended rules);
//   units     — `bun test`: the *.test.ts beside the code (no service);
//   compiled  — builds dist/<app> (scripts/build.ts), then every test under tests/
//               with the local stack started from those executables (what the images ship);
//   deno      — all four apps under Deno inside the local stack, with the storefront,
//               read-path, admin-site and write-API system tests through them;
//   compose   — compose.yaml on a real Docker engine, on stand-ins for the images that
//               cannot be pulled here (tests/docker/);
//   fresh     — the README's quick start in a fresh container (tests/fresh/).
// Ends with one line `N passed, N failed` (the sum over the passes). The Docker daemons
// the compose and fresh passes start are stopped after the last of them that runs, also
// when one runs alone.
//
//   bun run test                          every pass
//   bun run test --pass deno              one pass
//   bun run test tests/system/api.test.ts those files (or folders) alone, the stack from the
//                                         sources, started on demand (bun test filters)
//   bun run test --pass compiled tests/browser/   a pass's set-up with those files instead of its own
import { spawn } from "bun";
import path from "node:path";
import { BROWSER, PROGRAMS, requirePrograms, signalExitCode } from "../local/src/index.ts";
import { bunTest, type Pass, planFor, stepsAfter } from "./passes.ts";

const ROOT = path.resolve(import.meta.dir, "..");

const planned = planFor(process.argv.slice(2));
if ("error" in planned) {
  console.error(planned.error);
  process.exit(2);
}
const plan = planned.plan;

// A SIGTERM for this script goes on to the pass running, which stops the stack it
// started (tests/setup.ts: stopRequests and stopOnSignals) before this exits: no
// service is left behind. A Ctrl-C reaches the pass from the terminal already (one
// process group); sending it a second SIGINT would read as "force it", so that one is
// only waited for. Either way this ends as the signal would (130, 143).
let current: ReturnType<typeof spawn> | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (signal === "SIGTERM") current?.kill(signal);
    await current?.exited;
    process.exit(signalExitCode(signal));
  });
}

async function run(cmd: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  current = proc;
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      output += text;
      out.write(text);
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
  return { code: await proc.exited, output };
}

/** bun test's own summary: " 12 pass" and " 0 fail" lines. */
function counts(output: string) {
  const pick = (word: string) => Number(output.match(new RegExp(`^\\s*(\\d+) ${word}$`, "m"))?.[1] ?? 0);
  return { passed: pick("pass"), failed: pick("fail") };
}

let passed = 0;
let failed = 0;

// The install, before any test: a failure is one line (apt-get's own reason and where
// its full output is), counted as one failure; the passes that need no system package
// still run.
let systemReady = true;
if (plan.some((p) => p.system)) {
  console.log("\n=== system packages ===\n");
  try {
    const found = await requirePrograms({ ...PROGRAMS, ...BROWSER }, { log: (line) => console.log(line) });
    console.log(
      `system packages: ok (${[...new Set(Object.values(found).map((p) => path.basename(p)))].join(", ")})`,
    );
  } catch (err) {
    console.error(`system packages: FAILED: ${(err as Error).message}`);
    systemReady = false;
    failed++;
  }
}

for (const [index, pass] of plan.entries()) {
  console.log(`\n=== pass: ${pass.name} ===\n`);
  if (pass.system && !systemReady) {
    console.log(`pass ${pass.name}: not run (the system packages are missing)`);
    continue;
  }
  try {
    await runPass(pass);
  } finally {
    // Its own `after`, and the engine stopped once no later pass needs it (passes.ts).
    for (const step of stepsAfter(plan, index)) {
      const { code } = await run(step, pass.env ?? {});
      if (code !== 0) {
        console.error(`pass ${pass.name}: ${step.join(" ")} failed (exit ${code})`);
        failed++;
      }
    }
  }
}

async function runPass(pass: Pass) {
  if (pass.before) {
    const { code } = await run(pass.before, pass.env ?? {});
    if (code !== 0) {
      console.error(`pass ${pass.name}: ${pass.before.join(" ")} failed (exit ${code})`);
      failed++;
      return;
    }
  }
  if ("command" in pass) {
    const { code } = await run(pass.command, pass.env ?? {});
    console.log(
      `pass ${pass.name}: ${code === 0 ? "1 passed, 0 failed" : `0 passed, 1 failed (exit ${code})`}`,
    );
    if (code === 0) passed++;
    else failed++;
    return;
  }
  const { code, output } = await run(bunTest(pass.tests, pass.ignore), pass.env ?? {});
  const c = counts(output);
  // A run that crashed before its summary (or ran no test) still counts as a failure.
  if (code !== 0 && c.failed === 0) c.failed = 1;
  console.log(`pass ${pass.name}: ${c.passed} passed, ${c.failed} failed`);
  passed += c.passed;
  failed += c.failed;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
