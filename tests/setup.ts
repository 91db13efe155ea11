// Preloaded by every `bun test` (bunfig.toml), and it starts nothing by itself, so a
// unit run stays a unit run. The test stack starts on demand: the first test file
// that imports tests/system/stack.ts calls startTestStack() (at import, outside any
// hook, so no hook timeout can cut a start or an apt-get install short), later files
// get the same stack, and the afterAll below — global, since it is registered by a
// preload — stops it after the last file.
//
// The stack runs on ports of its own (the design's + 10000) with a fresh data dir, so
// tests never touch a store started by `bun run local`. With STORE_URL set, tests run
// against that stack instead and nothing is started. A Ctrl-C or SIGTERM during the run
// is startStack's own to answer: it stops what it started (even mid-start) and exits.
import { afterAll } from "bun:test";
import { runEnd } from "../testutil/src/run-end.ts";
import type { AppName } from "../local/src/runtime.ts";
import type { Ports } from "../local/src/services.ts";
import type { Stack } from "../local/src/stack.ts";

const TEST_PORT_OFFSET = Number(process.env.TEST_PORT_OFFSET ?? 10000);

let starting: Promise<Stack | undefined> | undefined;

/** The test stack, started by the first caller; undefined when STORE_URL names an external one. */
export function startTestStack(): Promise<Stack | undefined> {
  starting ??= start();
  return starting;
}

async function start(): Promise<Stack | undefined> {
  if (process.env.STORE_URL) return undefined;
  // Loaded here, not at the top: a unit run never loads the launcher.
  const { PORT_DEFAULTS } = await import("../local/src/services.ts");
  const { denoCommand } = await import("../local/src/runtime.ts");
  const { startStack } = await import("../local/src/stack.ts");
  const ports = Object.fromEntries(
    Object.entries(PORT_DEFAULTS).map(([k, p]) => [k, p + TEST_PORT_OFFSET]),
  ) as Ports;
  try {
    const stack = await startStack({
      dataDir: process.env.TEST_DATA_DIR ?? ".local/test",
      fresh: true,
      quiet: true,
      ports,
      // The design's two of each, whatever WEB_SERVERS / ADMIN_SERVERS the shell has:
      // the system tests name web-1/web-2 and admin-1/admin-2.
      servers: { web: 2, admin: 2 },
      // The launcher's own env vars (ports, data dir) must not leak in from a shell
      // that runs `bun run local` with custom ports.
      env: { ...process.env, STORE_DATA_DIR: undefined },
      // Short drains keep SIGTERM tests quick; long enough for HAProxy to notice.
      drainMs: 1500,
      // STACK_DENO_APPS=api,web runs those apps under Deno (the Deno pass).
      commands: Object.fromEntries(
        (process.env.STACK_DENO_APPS ?? "").split(",").filter(Boolean)
          .map((app) => [app, denoCommand(app as AppName)]),
      ),
    });
    Object.assign(process.env, stack.env);
    return stack;
  } catch (err) {
    // Every test that needs the stack fails naming this error; the others still run.
    console.error(`\n[tests/setup] the test stack did not start:\n${(err as Error).message}\n`);
    throw err;
  }
}

/** Stops the stack if one was started (or is starting: then once it is up). */
async function stopTestStack() {
  const stack = await starting?.catch(() => undefined);
  // Only once it has stopped: a stop already running (a SIGTERM's, in startStack) is
  // shared by stack.stop(), so this waits for it rather than let the run end mid-stop.
  await stack?.stop();
  starting = Promise.resolve(undefined);
}

// Stopping takes a few seconds (web/admin drain, then InnoDB flushes): more than a
// hook's default 5 s, which would leave the stack running after the run.
afterAll(stopTestStack, 60_000);
// And what test files started on demand for the whole run (the route harness's MariaDB).
afterAll(runEnd, 60_000);
