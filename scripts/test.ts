// `bun run test`: every test, the way CI runs them: the typecheck, then two passes:
//   1. compiled  — builds dist/<app> (scripts/build.ts) and runs the whole suite with
//                  the local stack started from those executables (what the images ship);
//   2. deno      — api and web under Deno inside the local stack, with the storefront
//                  and read-path system tests through them.
// Ends with one line `N passed, N failed` (the sum over the passes).
//
//   bun run test                 both passes
//   bun run test --pass deno     one pass
//   bun run test -- <filters>    passes the filters on to `bun test`
import { spawn } from "bun";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "..");

type Pass = { name: string; env: Record<string, string>; files: string[]; before?: string[] };

// The system tests that exercise the storefront and the read path, and the one
// that checks api and web really ran on Deno.
const DENO_FILES = ["tests/system/storefront", "tests/system/api", "tests/system/runtime"];

const PASSES: Pass[] = [
  { name: "compiled", before: ["bun", "scripts/build.ts"], env: { STACK_RUNTIME: "compiled" }, files: [] },
  { name: "deno", env: { STACK_DENO_APPS: "api,web" }, files: DENO_FILES },
];

const args = process.argv.slice(2);
const only = args.indexOf("--pass") >= 0 ? args[args.indexOf("--pass") + 1] : undefined;
const filters = args.filter((a, i) => a !== "--pass" && args[i - 1] !== "--pass");

async function run(cmd: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
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

// The types first (a second; tsc 7): counted as one test.
if (!only) {
  console.log("\n=== typecheck ===\n");
  const { code } = await run(["bun", "run", "typecheck"], {});
  console.log(`typecheck: ${code === 0 ? "ok" : "FAILED"}`);
  if (code === 0) passed++;
  else failed++;
}

for (const pass of PASSES) {
  if (only && pass.name !== only) continue;
  console.log(`\n=== pass: ${pass.name} ===\n`);
  if (pass.before) {
    const { code } = await run(pass.before, pass.env);
    if (code !== 0) {
      console.error(`pass ${pass.name}: ${pass.before.join(" ")} failed (exit ${code})`);
      failed++;
      continue;
    }
  }
  const { code, output } = await run(["bun", "test", ...pass.files, ...filters], pass.env);
  const c = counts(output);
  // A run that crashed before its summary still counts as a failure.
  if (code !== 0 && c.failed === 0) c.failed = 1;
  console.log(`pass ${pass.name}: ${c.passed} passed, ${c.failed} failed`);
  passed += c.passed;
  failed += c.failed;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
