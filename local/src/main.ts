// `bun run local [--fresh] [--quiet]`: the whole store on this machine. Prints where
// everything is, streams every service's log, and Ctrl-C (or SIGTERM) stops it all:
// exit 0 once the store is up. A stop while it is still starting stops what was
// started so far (in reverse order, named in a "stopped during start" line) and exits
// as an interrupted command does: 130 for SIGINT, 143 for SIGTERM (the start did not
// complete). A second Ctrl-C more than a second later forces the stop.
import { signalExitCode, StartInterrupted, startStack, stopOnSignals, stopRequests } from "./stack.ts";

const args = new Set(process.argv.slice(2));
if (args.has("--help") || args.has("-h")) {
  console.log(
    "usage: bun run local [--fresh] [--quiet]\n  --fresh  delete the local data and start from db/init.sql\n  --quiet  logs to files under the data dir instead of the terminal\n" +
      "ports and secrets from the environment: STORE_PORT, STATS_PORT, DB_PORT, REDIS_PORT, CACHE_PORT, API_PORT, ADMIN_API_PORT,\n" +
      "WEB1_PORT, WEB2_PORT, ADMIN1_PORT, ADMIN2_PORT, STORE_DATA_DIR, STACK_RUNTIME=bun|deno|compiled, ADMIN_USER, ADMIN_PASSWORD, …\n" +
      "WEB_SERVERS, ADMIN_SERVERS: how many web and admin servers (1-9, default 2); web-3 … on WEB1_PORT + 2 … (8085 …),\n" +
      "admin-3 … on ADMIN1_PORT + 12 … (8093 …), or WEB3_PORT, ADMIN3_PORT, … each\n" +
      "Ctrl-C or SIGTERM stops everything: exit 0 once the store is up; during the start, 130 (SIGINT) or 143 (SIGTERM).",
  );
  process.exit(0);
}

/** "web-1, web-2", or "web-1 … web-5" for more. */
const servers = (
  tier: string,
  n: number,
) => (n <= 2
  ? Array.from({ length: n }, (_, i) => `${tier}-${i + 1}`).join(", ")
  : `${tier}-1 … ${tier}-${n}`);

// Listening from the first moment, so a stop during the start is never missed.
const requests = stopRequests();
try {
  const stack = await startStack({
    fresh: args.has("--fresh"),
    quiet: args.has("--quiet"),
    signal: requests.signal,
  });
  stopOnSignals(stack, 0, requests);
  const { urls, secrets } = stack;
  const rows: [string, string][] = [
    ["store (proxy)", urls.store],
    [
      "admin site",
      `${urls.store}/admin  (login ${secrets.ADMIN_USER} / ${secrets.ADMIN_PASSWORD}${
        secrets.adminPasswordGenerated ? ", generated: set ADMIN_PASSWORD to choose" : ""
      })`,
    ],
    ["proxy stats", `${urls.stats}  (login ${secrets.STATS_USER} / ${secrets.STATS_PASSWORD})`],
    [servers("web", urls.web.length), urls.web.join("  ")],
    [servers("admin", urls.admin.length), urls.admin.join("  ")],
    ["api, admin-api", `${urls.api}  ${urls.adminApi}  (internal, Bearer token)`],
    ["cache, redis", `${urls.cache}  ${urls.redis}`],
    ["database", `${urls.db}  (socket ${stack.db.socket})`],
    ["data", stack.dataDir],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  if (!requests.signal.aborted) {
    console.log(
      `\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n")}\n\n  Ctrl-C stops everything.\n`,
    );
  }
} catch (err) {
  if (err instanceof StartInterrupted) {
    // The launcher's log has said it; with --quiet that log is a file.
    if (args.has("--quiet")) console.error(err.message);
    process.exit(signalExitCode(err.reason));
  }
  console.error(`\n${(err as Error).message}`);
  process.exit(1);
}
