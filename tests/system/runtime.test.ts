// The stack runs what the test pass says it runs: with STACK_RUNTIME=compiled the
// `bun build --compile` executables in dist/ (what the images ship), with
// STACK_DENO_APPS those apps under Deno. Each app says so when it starts
// ("runtime": bun | compiled | deno), and the kernel agrees on the executable.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { type AppName, REPO_ROOT, type ServiceName } from "../../local/src/index.ts";
import { hasLocalStack, stack } from "./stack.ts";

const APP_SERVICES: [ServiceName, AppName][] = [
  ["cache", "bridge"],
  ["api", "api"],
  ["admin-api", "admin-api"],
  ["web-1", "web"],
  ["web-2", "web"],
  ["admin-1", "admin"],
  ["admin-2", "admin"],
];

/** What tests/setup.ts asked for, per app: Deno for STACK_DENO_APPS, else STACK_RUNTIME (Bun when an app lacks the entry). */
function expected(app: AppName): "bun" | "compiled" | "deno" {
  if ((process.env.STACK_DENO_APPS ?? "").split(",").includes(app)) return "deno";
  const runtime = process.env.STACK_RUNTIME ?? "bun";
  if (runtime === "deno") return existsSync(path.join(REPO_ROOT, app, "src/main.deno.ts")) ? "deno" : "bun";
  return runtime as "bun" | "compiled";
}

describe.if(hasLocalStack())("the stack runs the runtime the test pass asked for", () => {
  for (const [service, app] of APP_SERVICES) {
    test(`${service} (${app}) started on ${expected(app)}`, () => {
      const s = stack();
      const log = readFileSync(path.join(s.logDir, `${service}.log`), "utf8");
      // The latest start (a test may have restarted the service).
      const line = log.split("\n").filter((l) => l.includes('"listening on')).at(-1);
      expect(line).toBeDefined();
      expect(JSON.parse(line!.slice(line!.indexOf("{")))).toMatchObject({ runtime: expected(app) });

      const pid = s.pid(service);
      if (pid === undefined || !existsSync(`/proc/${pid}/exe`)) return;
      const exe = readlinkSync(`/proc/${pid}/exe`);
      const want = expected(app);
      if (want === "compiled") expect(exe).toBe(path.join(REPO_ROOT, "dist", app));
      else expect(path.basename(exe)).toMatch(want === "deno" ? /^deno/ : /^bun/);
    });
  }
});
