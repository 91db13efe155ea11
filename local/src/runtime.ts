// How an app is run: on Bun (its main.ts), on Deno (its main.deno.ts) or as the
// executable `bun build --compile` made of it (dist/<app>), or by a command of the
// caller's own (./services.ts).
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./config.ts";

/** The app code bases; every web-N runs the same code, as does every admin-N. */
export type AppName = "bridge" | "api" | "admin-api" | "web" | "admin";

/**
 * How apps are run. `bun` runs `bun <app>/src/main.ts`; `deno` runs
 * `deno run -A <app>/src/main.deno.ts`; `compiled` runs `dist/<app>` (from
 * `bun build --compile`). An app without the entry that runtime needs falls back to Bun.
 */
export type Runtime = "bun" | "deno" | "compiled";
export const RUNTIMES: readonly Runtime[] = ["bun", "deno", "compiled"];

/** The runtime asked for (option, else STACK_RUNTIME, else bun); anything else is refused. */
export function resolveRuntime(given: Runtime | undefined, env: Record<string, string | undefined>): Runtime {
  const runtime = given ?? env.STACK_RUNTIME ?? "bun";
  if (!RUNTIMES.includes(runtime as Runtime)) {
    throw new Error(`STACK_RUNTIME must be bun, deno or compiled, not ${runtime}`);
  }
  return runtime as Runtime;
}

/**
 * Deno's own executable: the one the `deno` npm package (a devDependency) ships, so
 * no global install is needed and the process is Deno itself, not its Node wrapper
 * (node_modules/.bin/deno), which would take signals and hide the exit code.
 */
export function denoExecutable(): string {
  const shipped = path.join(REPO_ROOT, "node_modules/deno/deno");
  return existsSync(shipped) ? shipped : "deno";
}

/** The argv that runs an app's Deno entry. */
export const denoCommand = (
  app: AppName,
) => [denoExecutable(), "run", "-A", path.join(app, "src/main.deno.ts")];

/**
 * The argv that runs `app` as `service` on this runtime.
 *
 * @example appCommand("bun", "web", "web-2") // [process.execPath, "web/src/main.ts"]
 */
export function appCommand(runtime: Runtime, app: AppName, service: string): string[] {
  const bunEntry = [process.execPath, path.join(app, "src/main.ts")];
  if (runtime === "deno") {
    const entry = path.join(app, "src/main.deno.ts");
    if (existsSync(path.join(REPO_ROOT, entry))) return denoCommand(app);
  }
  if (runtime === "compiled") {
    const exe = path.join(REPO_ROOT, "dist", app);
    if (!existsSync(exe)) {
      throw new Error(
        `${service}: STACK_RUNTIME=compiled but ${
          path.relative(REPO_ROOT, exe)
        } does not exist (build it with bun build --compile)`,
      );
    }
    return [exe];
  }
  return bunEntry;
}
