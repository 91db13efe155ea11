// `bun run local [--fresh] [--verbose]`: the whole store on this machine. Prints where
// everything is and the launcher's own lines (a service started, healthy, exited and
// restarted) and the services' errors; their logs go to files (--verbose streams
// them here instead). Ctrl-C (or SIGTERM) stops it all:
// exit 0 once the store is up. A stop while it is still starting stops what was
// started so far (in reverse order, named in a "stopped during start" line) and exits
// as an interrupted command does: 130 for SIGINT, 143 for SIGTERM (the start did not
// complete). A second Ctrl-C more than a second later forces the stop.
import path from "node:path";
import { nodeNames, nodePorts } from "./galera.ts";
import { PORT_DEFAULTS, portEnv, replicaPorts } from "./ports.ts";
import { StartInterrupted, startStack } from "./stack.ts";
import { signalExitCode, stopOnSignals, stopRequests } from "./stop.ts";

const args = new Set(process.argv.slice(2));
/** The variables of the design's ports: the servers' (WEB1_PORT, …), or the others (STORE_PORT, …). */
const portVariables = (servers: boolean) =>
  (Object.keys(PORT_DEFAULTS) as (keyof typeof PORT_DEFAULTS)[]).filter((n) =>
    /^(web|admin)\d+$/.test(n) === servers
  ).map(portEnv)
    .join(", ");
if (args.has("--help") || args.has("-h")) {
  console.log(
    "usage: bun run local [--fresh] [--verbose]\n  --fresh    delete the local data (and the generated admin password) and start from db/init.sql\n" +
      "  --verbose  stream every service's log here; by default they go to files under the data dir (logs/),\n" +
      "             and only the launcher's lines and the services' errors are shown\n" +
      `ports and secrets from the environment: ${portVariables(false)},\n` +
      `${
        portVariables(true)
      }, STORE_DATA_DIR, STACK_RUNTIME=bun|deno|compiled, ADMIN_USER, ADMIN_PASSWORD, …\n` +
      "WEB_SERVERS, ADMIN_SERVERS: how many web and admin servers (1-9, default 2); web-3 … on WEB1_PORT + 2 … (8085 …),\n" +
      "admin-3 … on ADMIN1_PORT + 12 … (8093 …), or WEB3_PORT, ADMIN3_PORT, … each\n" +
      "DB_NODES=3: the database as a three-node MariaDB Galera cluster (db-1 … db-3 on DB_PORT + 10, + 20, + 30)\n" +
      "behind a HAProxy of its own on DB_PORT, one writer at a time (default 1: one MariaDB)\n" +
      "API_SERVERS, ADMIN_API_SERVERS: how many api and admin-api instances (1-4; default 1, or 2 with DB_NODES=3);\n" +
      "more than one: api-1 … on API_PORT + 10, + 20 …, admin-api-1 … on ADMIN_API_PORT + 10 …, behind an internal\n" +
      "HAProxy (proxy/internal.cfg) on API_PORT and ADMIN_API_PORT\n" +
      "A service that exits on its own is started again (as compose's restart: unless-stopped), and that is said here.\n" +
      "Ctrl-C or SIGTERM stops everything: exit 0 once the store is up; during the start, 130 (SIGINT) or 143 (SIGTERM).",
  );
  process.exit(0);
}

/** A path as short as it can be said from here. */
const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") ? rel : p;
};

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
    // --quiet, the old spelling of the default, is still accepted.
    logs: args.has("--verbose") ? "terminal" : "files+notices",
    signal: requests.signal,
  });
  stopOnSignals(requests, stack, 0);
  const { urls, secrets } = stack;
  const rows: [string, string][] = [
    ["store (proxy)", urls.store],
    // A password the operator chose is theirs to know: only a generated one is printed.
    [
      "admin site",
      `${urls.store}/admin  (login ${secrets.ADMIN_USER} / ${
        secrets.adminPasswordFile ? secrets.ADMIN_PASSWORD : "the ADMIN_PASSWORD you set"
      })`,
    ],
    ...(secrets.adminPasswordFile
      ? [[
        "admin password",
        `generated once, kept in ${
          shown(secrets.adminPasswordFile)
        } (--fresh makes a new one; ADMIN_PASSWORD sets one)`,
      ] as [string, string]]
      : []),
    ["proxy stats", `${urls.stats}  (login ${secrets.STATS_USER} / ${secrets.STATS_PASSWORD})`],
    [servers("web", urls.web.length), urls.web.join("  ")],
    [servers("admin", urls.admin.length), urls.admin.join("  ")],
    [
      "api, admin-api",
      `${urls.api}  ${urls.adminApi}  (internal, Bearer token${
        replicaPorts(stack.ports, stack.replicas).length
          ? `; HAProxy in front of ${
            replicaPorts(stack.ports, stack.replicas).map(({ name, port }) => `${name} on ${port}`).join(", ")
          }`
          : ""
      })`,
    ],
    ["cache, redis", `${urls.cache}  ${urls.redis}`],
    ...(stack.dbNodes > 1
      ? [
        [
          "database",
          `${urls.db}  (HAProxy, one writer: db-1 … db-${stack.dbNodes} on ${
            nodeNames(stack.dbNodes).map((_, i) => nodePorts(stack.ports.db, i + 1).sql).join(", ")
          }; socket of db-1 ${stack.db.socket})`,
        ] as [string, string],
      ]
      : [["database", `${urls.db}  (socket ${stack.db.socket})`] as [string, string]]),
    ["data", stack.dataDir],
    [
      "logs",
      args.has("--verbose")
        ? "on this terminal (--verbose)"
        : `${shown(stack.logDir)}/<service>.log (launcher.log, web-1.log, …; --verbose streams them here)`,
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  if (!requests.signal.aborted) {
    console.log(
      `\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n")}\n\n  Ctrl-C stops everything.\n`,
    );
  }
} catch (err) {
  // The launcher's own lines are on the terminal in every mode: it has said it.
  if (err instanceof StartInterrupted) process.exit(signalExitCode(err.reason));
  console.error(`\n${(err as Error).message}`);
  process.exit(1);
}
