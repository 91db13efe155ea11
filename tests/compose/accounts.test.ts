// db/accounts.sh, run the way the mysql:8.4 entrypoint runs it: sourced from a
// bash under `set -eo pipefail`, with docker_process_sql (here: a stand-in that
// records the SQL it is given). The SQL string literals it writes are then read
// back by a real server (the test stack's MariaDB parses them as MySQL does).
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { hasLocalStack, stack } from "../system/stack.ts";
import { ROOT } from "./support.ts";

const SCRIPT = path.join(ROOT, "db/accounts.sh");

/** Sources accounts.sh as the entrypoint does; `withSql` defines docker_process_sql. */
function source(env: Record<string, string>, withSql = true) {
  const fn = withSql ? 'docker_process_sql() { cat; }; ' : "";
  const r = Bun.spawnSync(["bash", "-c", `set -eo pipefail; ${fn}. "$1"; echo "entrypoint continues"`, "bash", SCRIPT], {
    env: { PATH: process.env.PATH!, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

// Quotes, backslashes, shell metacharacters and non-ASCII: all must arrive intact.
const API_PW = `it's a \\ "pass" $HOME \`id\` ;--`;
const ADMIN_PW = "zwölf-Zeichen-'\\'-ok";

describe("db/accounts.sh under the mysql image's entrypoint", () => {
  test("sets both app accounts' passwords with ALTER USER, and the entrypoint goes on", () => {
    const r = source({ API_DB_PASSWORD: API_PW, ADMIN_DB_PASSWORD: ADMIN_PW });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ALTER USER 'bazaar_api'@'%' IDENTIFIED BY '.*';$/m);
    expect(r.out).toMatch(/^ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY '.*';$/m);
    expect(r.out.trim().endsWith("entrypoint continues")).toBe(true);
  });

  test.if(hasLocalStack())("its string literals read back as exactly the passwords given (parsed by the database)", async () => {
    const r = source({ API_DB_PASSWORD: API_PW, ADMIN_DB_PASSWORD: ADMIN_PW });
    const literals = [...r.out.matchAll(/IDENTIFIED BY ('(?:[^'\\]|\\.)*');$/gm)].map((m) => m[1]!);
    expect(literals).toHaveLength(2);
    const out = await stack().sql(`SELECT HEX(${literals[0]}), HEX(${literals[1]});`);
    const hex = (s: string) => Buffer.from(s, "utf8").toString("hex").toUpperCase();
    expect(out).toContain(`${hex(API_PW)}\t${hex(ADMIN_PW)}`);
  });

  test("a missing password stops the initialisation (rather than leave init.sql's defaults)", () => {
    const r = source({ API_DB_PASSWORD: "set-and-long-enough" });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("must be set");
    expect(r.out).not.toContain("ALTER USER");
    expect(r.out).not.toContain("entrypoint continues");
  });

  test("outside the entrypoint (no docker_process_sql) it refuses with a message", () => {
    const r = source({ API_DB_PASSWORD: "a-password", ADMIN_DB_PASSWORD: "b-password" }, false);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("docker-entrypoint-initdb.d");
  });
});
