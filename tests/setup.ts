// Preloaded by `bun test` (bunfig.toml): starts one local stack for the whole run,
// on ports of its own (the design's + 10000) and a fresh data dir, so tests never
// touch a store started by `bun run local`. With STORE_URL set, tests run against
// that stack instead and nothing is started. Unit tests need none of it.
import { afterAll } from "bun:test";
import { PORT_DEFAULTS, type Ports } from "../local/src/config.ts";
import { denoCommand, type AppName } from "../local/src/services.ts";
import { startStack } from "../local/src/stack.ts";
import { setStack } from "./system/stack.ts";

const TEST_PORT_OFFSET = Number(process.env.TEST_PORT_OFFSET ?? 10000);

if (!process.env.STORE_URL) {
  const ports = Object.fromEntries(
    Object.entries(PORT_DEFAULTS).map(([k, p]) => [k, p + TEST_PORT_OFFSET]),
  ) as Ports;
  try {
    const stack = await startStack({
      dataDir: process.env.TEST_DATA_DIR ?? ".local/test",
      fresh: true,
      quiet: true,
      ports,
      // The launcher's own env vars (ports, data dir) must not leak in from a shell
      // that runs `bun run local` with custom ports.
      env: { ...process.env, STORE_DATA_DIR: undefined },
      // Short drains keep SIGTERM tests quick; long enough for HAProxy to notice.
      drainMs: 1500,
      // STACK_DENO_APPS=api,web runs those apps under Deno (the CI's Deno pass).
      commands: Object.fromEntries(
        (process.env.STACK_DENO_APPS ?? "").split(",").filter(Boolean)
          .map((app) => [app, denoCommand(app as AppName)]),
      ),
    });
    Object.assign(process.env, stack.env);
    setStack(stack);
    // Stopping takes a few seconds (web/admin drain, then InnoDB flushes): more than
    // a hook's default 5 s, which would leave the stack running after the run.
    afterAll(() => stack.stop(), 60_000);
  } catch (err) {
    // Unit tests still run; every system test fails naming this error.
    setStack(undefined, err as Error);
    console.error(`\n[tests/setup] the test stack did not start:\n${(err as Error).message}\n`);
  }
}
