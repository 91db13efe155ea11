// db/accounts.sh, run the way the mysql:8.4 entrypoint runs it: sourced from a
// bash under `set -eo pipefail`, with docker_process_sql (here: a stand-in that
// records the SQL it is given), or executed, loading the entrypoint's functions
// itself. The compose pass (tests/docker/) runs it in a real container. The SQL string literals it writes are then read
// back by a real server (the test stack's MariaDB parses them as MySQL does).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { hasLocalStack, stack } from "../system/stack.ts";
import { ROOT } from "./support.ts";

const SCRIPT = path.join(ROOT, "db/accounts.sh");

const writeSecret = (dir: string, name: string, value: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, value);
  return file;
};

/** Sources accounts.sh as the entrypoint does; `withSql` defines docker_process_sql. */
function source(env: Record<string, string>, withSql = true) {
  const fn = withSql ? "docker_process_sql() { cat; }; " : "";
  const r = Bun.spawnSync([
    "bash",
    "-c",
    `set -eo pipefail; ${fn}. "$1"; echo "entrypoint continues"`,
    "bash",
    SCRIPT,
  ], {
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

  test.if(hasLocalStack())(
    "its string literals read back as exactly the passwords given (parsed by the database)",
    async () => {
      const r = source({ API_DB_PASSWORD: API_PW, ADMIN_DB_PASSWORD: ADMIN_PW });
      const literals = [...r.out.matchAll(/IDENTIFIED BY ('(?:[^'\\]|\\.)*');$/gm)].map((m) => m[1]!);
      expect(literals).toHaveLength(2);
      const out = await stack().sql(`SELECT HEX(${literals[0]}), HEX(${literals[1]});`);
      const hex = (s: string) => Buffer.from(s, "utf8").toString("hex").toUpperCase();
      expect(out).toContain(`${hex(API_PW)}\t${hex(ADMIN_PW)}`);
    },
  );

  test("a missing password stops the initialisation (rather than leave init.sql's defaults)", () => {
    const r = source({ API_DB_PASSWORD: "set-and-long-enough" });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("must be set");
    expect(r.out).not.toContain("ALTER USER");
    expect(r.out).not.toContain("entrypoint continues");
  });

  test("executed (a checkout or bind mount that shows it executable), it loads the entrypoint's functions itself", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "accounts-"));
    const entrypoint = path.join(dir, "docker-entrypoint.sh");
    writeFileSync(
      entrypoint,
      'docker_setup_env() { SOCKET=/run/mysqld/mysqld.sock; }\ndocker_process_sql() { echo "socket=$SOCKET"; cat; }\n',
    );
    const r = Bun.spawnSync([SCRIPT], {
      env: {
        PATH: process.env.PATH!,
        BAZAAR_DOCKER_ENTRYPOINT: entrypoint,
        API_DB_PASSWORD_FILE: writeSecret(dir, "api", API_PW),
        ADMIN_DB_PASSWORD: ADMIN_PW,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.exitCode).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain("socket=/run/mysqld/mysqld.sock");
    expect(out).toMatch(/^ALTER USER 'bazaar_api'@'%' IDENTIFIED BY '.*';$/m);
    expect(out).toMatch(/^ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY '.*';$/m);
  });

  test("reads a password from NAME_FILE when NAME is unset (compose's generated secrets)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "accounts-"));
    const r = source({
      API_DB_PASSWORD_FILE: writeSecret(dir, "api", "from-a-file-1"),
      ADMIN_DB_PASSWORD_FILE: writeSecret(dir, "admin", "from-a-file-2"),
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain("IDENTIFIED BY 'from-a-file-1';");
    expect(r.out).toContain("IDENTIFIED BY 'from-a-file-2';");
  });

  test("executed with no entrypoint to load, it refuses with a message and a failing exit code", () => {
    const r = Bun.spawnSync([SCRIPT], {
      env: {
        PATH: process.env.PATH!,
        BAZAAR_DOCKER_ENTRYPOINT: "/nonexistent",
        API_DB_PASSWORD: "a-password",
        ADMIN_DB_PASSWORD: "b-password",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toContain("docker-entrypoint-initdb.d");
  });

  test("outside the entrypoint (no docker_process_sql) it refuses with a message", () => {
    const r = source({
      API_DB_PASSWORD: "a-password",
      ADMIN_DB_PASSWORD: "b-password",
      BAZAAR_DOCKER_ENTRYPOINT: "/nonexistent",
    }, false);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("docker-entrypoint-initdb.d");
  });
});
