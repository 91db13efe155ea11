// The local database: MariaDB in its own data dir, created with mariadb-install-db
// and loaded from the same db/init.sql compose loads, then the app accounts get the
// stack's passwords (as compose does right after init.sql).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./config.ts";
import { isRoot } from "./system.ts";

export const INIT_SQL = path.join(REPO_ROOT, "db/init.sql");

export type DbLayout = { dir: string; socket: string; pidFile: string; seeded: string };

export function dbLayout(dataDir: string): DbLayout {
  const dir = path.join(dataDir, "mysql");
  let socket = path.join(dir, "mysqld.sock");
  // A unix socket path is limited to 107 bytes; deep checkouts fall back to /tmp.
  if (socket.length > 100) socket = path.join(os.tmpdir(), `bazaar-${createHash("sha1").update(dir).digest("hex").slice(0, 12)}.sock`);
  return { dir, socket, pidFile: path.join(dir, "mysqld.pid"), seeded: path.join(dir, ".bazaar-seeded") };
}

/** The OS account that may log in as the database's superuser over the socket. */
export const socketUser = () => (isRoot() ? "root" : os.userInfo().username);

export type DbBins = { mariadbd: string; installDb: string; mariadb: string };

/**
 * Creates the system tables on first start. A data dir without the "seeded" marker
 * is a half-done first start (killed while loading): it is made again from scratch.
 */
export async function ensureInstalled(bins: DbBins, db: DbLayout, log: (line: string) => void) {
  if (existsSync(db.seeded)) return false;
  rmSync(db.dir, { recursive: true, force: true });
  mkdirSync(db.dir, { recursive: true });
  log(`creating a new database in ${db.dir}`);
  const args = [
    bins.installDb,
    "--no-defaults",
    `--datadir=${db.dir}`,
    "--auth-root-authentication-method=socket",
    "--skip-test-db",
    "--skip-name-resolve",
    ...(isRoot() ? ["--user=root"] : [`--auth-root-socket-user=${socketUser()}`]),
  ];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mariadb-install-db failed (exit ${code}):\n${(out + err).trim().split("\n").slice(-20).join("\n")}`);
  return true;
}

export function mariadbdCommand(bins: DbBins, db: DbLayout, port: number): string[] {
  return [
    bins.mariadbd,
    "--no-defaults",
    `--datadir=${db.dir}`,
    `--socket=${db.socket}`,
    `--pid-file=${db.pidFile}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    ...(isRoot() ? ["--user=root"] : []),
    "--skip-name-resolve",
    // Durable commits: an acknowledged order survives a crash of the database.
    "--innodb-flush-log-at-trx-commit=1",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--max-connections=500",
    // Errors to stderr, which the launcher streams with the other logs.
    "--log-warnings=1",
  ];
}

const sqlString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

async function client(bins: DbBins, db: DbLayout, input: { sql: string } | { file: string }) {
  const args = [bins.mariadb, "--no-defaults", `--socket=${db.socket}`, `--user=${socketUser()}`, "--batch"];
  const stdin = "file" in input ? Bun.file(input.file) : new Blob([input.sql]);
  const p = Bun.spawn(args, { stdin, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mariadb client failed (exit ${code}): ${err.trim() || out.trim()}`);
  return out;
}

/** Runs SQL as the superuser over the socket; answers the client's tab-separated output. */
/** Columns added since the first release, for data dirs made before them (MariaDB's IF NOT EXISTS). */
const COLUMN_MIGRATIONS = `
ALTER TABLE bazaar.orders
  ADD COLUMN IF NOT EXISTS request_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD UNIQUE KEY IF NOT EXISTS orders_request (request_id);`;

/**
 * db/init.sql without its seed rows. Everything else in it may run again: tables are
 * CREATE IF NOT EXISTS, the procedure is dropped and created anew (today's version),
 * accounts and grants are idempotent. The seed must not: it would bring back toys
 * the admin deleted.
 */
export const schemaWithoutSeed = (sql: string) => {
  const seed = /^INSERT IGNORE INTO items[\s\S]*?;\n/m;
  if (!seed.test(sql)) throw new Error("db/init.sql: the seed (INSERT IGNORE INTO items …;) was not found");
  return sql.replace(seed, "");
};

export const rootSql = (bins: DbBins, db: DbLayout, sql: string) => client(bins, db, { sql });

/**
 * On the first start, loads db/init.sql; on later ones, its schema again (no seed);
 * on every start, sets the app accounts' passwords (so a changed API_DB_PASSWORD /
 * ADMIN_DB_PASSWORD takes effect).
 */
export async function seedAndConfigure(
  bins: DbBins,
  db: DbLayout,
  passwords: { api: string; admin: string },
  log: (line: string) => void,
) {
  if (!existsSync(db.seeded)) {
    log(`loading ${path.relative(REPO_ROOT, INIT_SQL)}`);
    await client(bins, db, { file: INIT_SQL });
    writeFileSync(db.seeded, `${new Date().toISOString()}\n`);
  } else {
    // Data from an earlier start, maybe of an older Bazaar: bring its schema up to
    // date without touching its rows.
    await client(bins, db, { sql: `${COLUMN_MIGRATIONS}\n${schemaWithoutSeed(await Bun.file(INIT_SQL).text())}` });
  }
  await client(bins, db, {
    sql:
      `ALTER USER 'bazaar_api'@'%' IDENTIFIED BY ${sqlString(passwords.api)};\n` +
      `ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY ${sqlString(passwords.admin)};\n` +
      "FLUSH PRIVILEGES;\n",
  });
}
