// The local database: MariaDB in its own data dir, created with mariadb-install-db
// and loaded from the same db/init.sql compose loads, then the app accounts get the
// stack's passwords (as compose does right after init.sql).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as v from "valibot";
import { nameKey } from "@bazaar/lib/name-key.ts";
import { ItemName } from "@bazaar/lib/schemas.ts";
import { REPO_ROOT } from "./config.ts";
import { isRoot } from "./system.ts";

export const INIT_SQL = path.join(REPO_ROOT, "db/init.sql");

export type DbLayout = { dir: string; socket: string; pidFile: string; seeded: string };

export function dbLayout(dataDir: string): DbLayout {
  const dir = path.join(dataDir, "mysql");
  let socket = path.join(dir, "mysqld.sock");
  // A unix socket path is limited to 107 bytes; deep checkouts fall back to /tmp.
  if (socket.length > 100) {
    socket = path.join(
      os.tmpdir(),
      `bazaar-${createHash("sha1").update(dir).digest("hex").slice(0, 12)}.sock`,
    );
  }
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
  await installSystemTables(bins, db.dir);
  return true;
}

/** mariadb-install-db into `dir`: the system tables, the superuser by socket, no test database. */
export async function installSystemTables(bins: DbBins, dir: string) {
  const args = [
    bins.installDb,
    "--no-defaults",
    `--datadir=${dir}`,
    "--auth-root-authentication-method=socket",
    "--skip-test-db",
    "--skip-name-resolve",
    ...(isRoot() ? ["--user=root"] : [`--auth-root-socket-user=${socketUser()}`]),
  ];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) {
    throw new Error(
      `mariadb-install-db failed (exit ${code}):\n${(out + err).trim().split("\n").slice(-20).join("\n")}`,
    );
  }
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
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`mariadb client failed (exit ${code}): ${err.trim() || out.trim()}`);
  return out;
}

/** Columns and keys added since the first release, for data dirs made before them (MariaDB's IF NOT EXISTS). */
const COLUMN_MIGRATIONS = `
ALTER TABLE bazaar.orders
  ADD COLUMN IF NOT EXISTS request_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD UNIQUE KEY IF NOT EXISTS orders_request (request_id);
ALTER TABLE bazaar.items ADD COLUMN IF NOT EXISTS version BIGINT UNSIGNED NOT NULL DEFAULT 1 AFTER price;
ALTER TABLE bazaar.items ADD KEY IF NOT EXISTS items_name (name, id);`;

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

/** Runs SQL as the superuser over the socket; answers the client's tab-separated output. */
export const rootSql = (bins: DbBins, db: DbLayout, sql: string) => client(bins, db, { sql });

export type StoredItem = { id: number; name: string; key: string };

/** How a name is shown in a message: invisible and control characters as U+XXXX. */
const shown = (name: string) =>
  JSON.stringify(
    name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/gu, (ch) =>
      `<U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}>`),
  );

/**
 * The rows whose name_key is not today's key of their name, with the new key; or an
 * error naming every row the rule refuses: names that are now the same as another
 * row's (the unique index would refuse the second) and names no longer valid (every
 * read of the catalogue would refuse them as bad data). Nothing is changed then.
 */
export function planNameKeys(rows: StoredItem[]): { id: number; key: string }[] {
  const byKey = new Map<string, StoredItem[]>();
  const invalid: string[] = [];
  for (const row of rows) {
    const parsed = v.safeParse(ItemName, row.name);
    if (!parsed.success) invalid.push(`${shown(row.name)} (id ${row.id}): ${parsed.issues[0].message}`);
    const key = nameKey(row.name);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const same = [...byKey.entries()].filter(([, group]) => group.length > 1)
    .map(([key, group]) =>
      `${group.map((r) => `${shown(r.name)} (id ${r.id})`).join(" and ")} are now the same name (key ${
        shown(key)
      })`
    );
  if (same.length || invalid.length) {
    throw new Error(
      "the items' names do not all meet today's name rule (docs/design.md, Data: unique after NFKC and full case folding; " +
        "no control, format or bidi characters), so the database was not migrated and nothing in it was changed:\n" +
        [...same, ...invalid].map((line) => `  - ${line}`).join("\n") +
        "\nKeep one name of each set that is now the same, and rename or delete the refused ones: with the Bazaar that ran " +
        "this data before, in its admin site (/admin, delete), or over the database's socket (e.g. DELETE FROM bazaar.items " +
        "WHERE id = …); then start again. Or start from the seed with bun run local --fresh (this deletes the data).",
    );
  }
  return rows.map((r) => ({ id: r.id, key: nameKey(r.name) })).filter((r, i) => r.key !== rows[i]!.key);
}

const fromHex = (hex: string) => new TextDecoder().decode(Buffer.from(hex, "hex"));
const hexOf = (text: string) => Buffer.from(text, "utf8").toString("hex");

/** Every item's id, name and stored key, read over the socket. */
async function storedItems(bins: DbBins, db: DbLayout): Promise<StoredItem[]> {
  // Hexadecimal, so no name's bytes meet the client's tab-separated escaping.
  const out = await client(bins, db, {
    sql: "SELECT id, HEX(name), HEX(name_key) FROM bazaar.items ORDER BY id;",
  });
  return out.split("\n").slice(1).filter(Boolean).map((line) => {
    const [id, name, key] = line.split("\t");
    return { id: Number(id), name: fromHex(name ?? ""), key: fromHex(key ?? "") };
  });
}

/**
 * items.name_key from before the Unicode key (the lowercased name in a VARCHAR(64)):
 * the wider column, then the keys planNameKeys recomputed with the apps' own nameKey,
 * in one transaction, through a placeholder each: a row's new key may be another
 * row's old one (fullwidth "ｉ" + U+0307 gets "i" + U+0307, the old key of "İ",
 * which now has "i").
 */
async function migrateNameKeys(
  bins: DbBins,
  db: DbLayout,
  changes: { id: number; key: string }[],
  log: (line: string) => void,
) {
  const column = (await client(bins, db, {
    sql:
      "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'bazaar' AND TABLE_NAME = 'items' AND COLUMN_NAME = 'name_key';",
  })).split("\n")[1]?.trim();
  if (column !== "varbinary(3072)") {
    log(`items.name_key: ${column} → varbinary(3072)`);
    await client(bins, db, { sql: "ALTER TABLE bazaar.items MODIFY name_key VARBINARY(3072) NOT NULL;" });
  }
  if (changes.length === 0) return;
  log(`items.name_key: ${changes.length} key(s) recomputed for today's name rule`);
  const ids = changes.map((c) => c.id).join(", ");
  await client(bins, db, {
    sql: [
      "START TRANSACTION;",
      // A name cannot hold U+0000, so no key starts with it: a free placeholder.
      `UPDATE bazaar.items SET name_key = CONCAT(X'00', id) WHERE id IN (${ids});`,
      ...changes.map((c) => `UPDATE bazaar.items SET name_key = X'${hexOf(c.key)}' WHERE id = ${c.id};`),
      "COMMIT;",
    ].join("\n"),
  });
}

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
    // date without touching its rows, except for keys made by an older name rule.
    // The names are checked first: a refusal leaves the data as it was.
    const changes = planNameKeys(await storedItems(bins, db));
    await client(bins, db, {
      sql: `${COLUMN_MIGRATIONS}\n${schemaWithoutSeed(await Bun.file(INIT_SQL).text())}`,
    });
    await migrateNameKeys(bins, db, changes, log);
  }
  await client(bins, db, {
    sql: `ALTER USER 'bazaar_api'@'%' IDENTIFIED BY ${sqlString(passwords.api)};\n` +
      `ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY ${sqlString(passwords.admin)};\n` +
      "FLUSH PRIVILEGES;\n",
  });
}
