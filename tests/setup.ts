// Preloaded by every `bun test` (bunfig.toml), and it starts nothing by itself, so a
// unit run stays a unit run. The test stack starts on demand: the first test file
// that imports tests/system/stack.ts calls startTestStack() (at import, outside any
// hook, so no hook timeout can cut a start or an apt-get install short), later files
// get the same stack, and the afterAll below — global, since it is registered by a
// preload — stops it after the last file.
//
// The stack runs on ports of its own (PORT_PLAN.system: the design's + 10000, or
// + TEST_PORT_OFFSET) with a fresh data dir, so tests never touch a store started by
// `bun run local`. With STORE_URL set, tests run against that stack instead and nothing
// is started. A Ctrl-C or SIGTERM during the run stops what was started (even
// mid-start) and ends the run as the signal would (130, 143).
import { afterAll } from "bun:test";
import { runEnd } from "../testutil/src/run-end.ts";
import type { AppName, Stack } from "../local/src/index.ts";

let starting: Promise<Stack | undefined> | undefined;

/** The test stack, started by the first caller; undefined when STORE_URL names an external one. */
export function startTestStack(): Promise<Stack | undefined> {
  starting ??= start();
  return starting;
}

async function start(): Promise<Stack | undefined> {
  if (process.env.STORE_URL) return undefined;
  // Loaded here, not at the top: a unit run never loads the launcher.
  const { denoCommand, PORT_PLAN, plannedPorts, startStack, stopOnSignals, stopRequests } = await import(
    "../local/src/index.ts"
  );
  const offset = Number(process.env.TEST_PORT_OFFSET ?? PORT_PLAN.system.offset);
  const requests = stopRequests();
  const starting = startStack({
    signal: requests.signal,
    dataDir: process.env.TEST_DATA_DIR ?? ".local/test",
    fresh: true,
    quiet: true,
    // The design's two of each, whatever WEB_SERVERS / ADMIN_SERVERS the shell has:
    // the system tests name web-1/web-2 and admin-1/admin-2.
    servers: { web: 2, admin: 2 },
    // One api and one admin-api, whatever API_SERVERS the shell has: the system tests
    // stop and kill "api" (tests/launcher/replicas.test.ts runs the replicas).
    replicas: { api: 1, adminApi: 1 },
    ports: plannedPorts("system", { web: 2, admin: 2 }, offset),
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
  // A stop request, during the start or after it: the stack stops, then the run ends.
  stopOnSignals(requests, starting);
  try {
    const stack = await starting;
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
  // Only once it has stopped: a stop already running (a SIGTERM's: stopOnSignals) is
  // shared by stack.stop(), so this waits for it rather than let the run end mid-stop.
  await stack?.stop();
  starting = Promise.resolve(undefined);
}

// Stopping takes a few seconds (web/admin drain, then InnoDB flushes): more than a
// hook's default 5 s, which would leave the stack running after the run.
afterAll(stopTestStack, 60_000);
// And what test files started on demand for the whole run (the route harness's MariaDB).
afterAll(runEnd, 60_000);
