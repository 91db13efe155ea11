// Compiles each app into one self-contained executable: dist/<app>.
//
//   bun scripts/build.ts                      every app (api, admin-api, web, admin, bridge)
//   bun scripts/build.ts api web              only these
//   bun scripts/build.ts --outdir /tmp/x      somewhere else than dist/
//
// The images (Dockerfile) and the local stack (STACK_RUNTIME=compiled) both run
// what this script builds, with the same flags, so CI tests what the images ship.
// After building, each executable is started once with an empty environment: it
// must stop with exit code 1 and name a missing variable. That proves it runs
// (on this machine's libc and CPU) without needing a database or a network.
import { rmSync, statSync } from "node:fs";
import path from "node:path";

export const APPS = ["api", "admin-api", "web", "admin", "bridge"] as const;
export type App = (typeof APPS)[number];

const ROOT = path.resolve(import.meta.dir, "..");

// --minify: smaller and faster to load. --sourcemap: embedded in the executable,
// so stack traces still name the .ts files and lines. --bytecode: precompiled,
// starts about 3x faster — it matters for `--healthcheck`, which the image runs
// every few seconds. No --target: the executable is for the machine (and CPU
// architecture) that builds it, which in the Dockerfile is the image's own platform.
// No autoloading of .env or bunfig.toml from the working directory: config comes
// from the environment only, exactly as compose and the launcher give it.
export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--sourcemap",
  "--bytecode",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

export type Built = { app: App; file: string; bytes: number };

export async function build(apps: readonly App[], outdir: string): Promise<Built[]> {
  const built: Built[] = [];
  for (const app of apps) {
    const file = path.join(outdir, app);
    const proc = Bun.spawnSync([
      "bun",
      "build",
      ...COMPILE_FLAGS,
      path.join(ROOT, app, "src/main.ts"),
      "--outfile",
      file,
    ], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    if (proc.exitCode !== 0) {
      throw new Error(
        `${app}: bun build failed (exit ${proc.exitCode})\n${proc.stdout.toString()}${proc.stderr.toString()}`,
      );
    }
    // The source map is embedded already; the side file would only clutter dist/.
    rmSync(`${file}.map`, { force: true });
    built.push({ app, file, bytes: statSync(file).size });
  }
  return built;
}

/** Start the executable with no environment: it must exit 1 naming a missing variable. */
export async function check(file: string): Promise<{ ok: boolean; exitCode: number | null; stderr: string }> {
  const proc = Bun.spawn([file], { env: {}, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 10_000);
  const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(timer);
  const ok = exitCode === 1 && /bad configuration:\n\s+[A-Z][A-Z0-9_]+: is required/.test(stderr);
  return { ok, exitCode, stderr };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

if (import.meta.main) {
  const args = process.argv.slice(2);
  let outdir = path.join(ROOT, "dist");
  const apps: App[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--outdir") outdir = path.resolve(args[++i] ?? "");
    else if ((APPS as readonly string[]).includes(a)) apps.push(a as App);
    else {
      console.error(
        `unknown argument: ${a}\nusage: bun scripts/build.ts [--outdir DIR] [${APPS.join("|")} …]`,
      );
      process.exit(2);
    }
  }
  try {
    const built = await build(apps.length ? apps : APPS, outdir);
    let failed = false;
    for (const b of built) {
      const c = await check(b.file);
      const shown = path.relative(process.cwd(), b.file);
      console.log(
        `${(shown.startsWith("..") ? b.file : shown).padEnd(16)} ${mib(b.bytes).padStart(10)}  ${
          c.ok
            ? "starts (exits 1 on an empty environment, naming the variable)"
            : "DOES NOT START as expected"
        }`,
      );
      if (!c.ok) {
        failed = true;
        console.error(`  exit ${c.exitCode}: ${c.stderr.trim()}`);
      }
    }
    if (failed) process.exit(1);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
