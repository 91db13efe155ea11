// One MariaDB for a test run, made from nothing and thrown away after: the launcher's
// own start code (local/src/mariadb.ts: the data dir, db/init.sql, the app accounts'
// passwords), run by hand rather than as a stack service, so nothing else starts.
// The route harness (./route-harness.ts) runs the api and admin-api against it.
import { rmSync } from "node:fs";
import path from "node:path";
import {
  dbLayout,
  ensureInstalled,
  mariadbdCommand,
  portTaken,
  PROGRAMS,
  REPO_ROOT,
  requirePrograms,
  rootSql,
  seedAndConfigure,
  waitFor,
} from "@bazaar/local";

/** The account the harness resets the catalogue with (the apps' own ones cannot). */
export const HARNESS_USER = "bazaar_harness";

export type ThrowawayDb = {
  port: number;
  /** The app accounts' passwords (bazaar_api, bazaar_admin) and HARNESS_USER's. */
  passwords: { api: string; admin: string; harness: string };
  stop(): Promise<void>;
};

/** How many ports from the one asked for are tried: the first free one is taken. */
export const PORT_TRIES = 10;

async function freePort(first: number) {
  for (let port = first; port < first + PORT_TRIES; port++) if (!(await portTaken(port))) return port;
  throw new Error(`no free port for the throwaway MariaDB in ${first}–${first + PORT_TRIES - 1}`);
}

/**
 * Starts MariaDB in `dataDir` (emptied first) on the first free port from `port` on,
 * loads db/init.sql and answers once it takes connections. Its output goes to `<dataDir>/mariadbd.log`.
 * @example
 * const db = await startThrowawayDb({ dataDir: ".local/test-routes", port: 13316 });
 * // … createDb({ DB_PORT: db.port, DB_USER: "bazaar_api", DB_PASSWORD: db.passwords.api, … })
 * await db.stop();
 */
export async function startThrowawayDb(
  { dataDir, port: firstPort }: { dataDir: string; port: number },
): Promise<ThrowawayDb> {
  const dir = path.resolve(REPO_ROOT, dataDir);
  // No install from a test: `bun run test` installs the system packages once, up front.
  const bins = await requirePrograms(
    { mariadbd: PROGRAMS.mariadbd, installDb: PROGRAMS.installDb, mariadb: PROGRAMS.mariadb },
    { install: false },
  );
  rmSync(dir, { recursive: true, force: true });
  const layout = dbLayout(dir);
  const quiet = () => {};
  await ensureInstalled(bins, layout, quiet);
  const port = await freePort(firstPort);
  const log = Bun.file(path.join(dir, "mariadbd.log"));
  const proc = Bun.spawn(mariadbdCommand(bins, layout, port), {
    stdout: "ignore",
    stderr: log,
    stdin: "ignore",
  });
  // A run that ends without stop() (an error, a Ctrl-C) must not leave it running.
  const kill = () => proc.kill("SIGKILL");
  process.once("exit", kill);
  try {
    await waitFor({ tcp: { host: "127.0.0.1", port } }, {
      timeoutMs: 60_000,
      gone: () => proc.exitCode === null ? undefined : `mariadbd exited (${proc.exitCode}): see ${log.name}`,
    });
    const passwords = { api: crypto.randomUUID(), admin: crypto.randomUUID(), harness: crypto.randomUUID() };
    await seedAndConfigure(bins, layout, passwords, quiet);
    await rootSql(
      bins,
      layout,
      `CREATE USER '${HARNESS_USER}'@'%' IDENTIFIED BY '${passwords.harness}';\n` +
        `GRANT ALL ON bazaar.* TO '${HARNESS_USER}'@'%';\n`,
    );
    return {
      port,
      passwords,
      async stop() {
        process.off("exit", kill);
        proc.kill("SIGTERM");
        await proc.exited;
      },
    };
  } catch (err) {
    kill();
    throw err;
  }
}
