// The local stack's secrets: lib/src/secrets.ts's generator and checks, with the
// launcher's own keeping (database passwords in the data dir, the rest per start).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PUBLISHED_MESSAGE } from "@bazaar/lib/config.ts";
import { resolveSecrets } from "./config.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "local-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dataDir = () => path.join(tmp, `data-${n++}`);

describe("resolveSecrets", () => {
  test("unset secrets are new per start, of the same lengths as before; the admin password is flagged generated", () => {
    const dir = dataDir();
    const a = resolveSecrets(undefined, {}, dir);
    const b = resolveSecrets(undefined, {}, dir);
    for (
      const k of ["API_TOKEN", "ADMIN_API_TOKEN", "SRH_TOKEN", "SESSION_SECRET", "ADMIN_PASSWORD"] as const
    ) expect(b[k]).not.toBe(a[k]);
    expect([
      a.API_TOKEN.length,
      a.ADMIN_API_TOKEN.length,
      a.SRH_TOKEN.length,
      a.SESSION_SECRET.length,
      a.ADMIN_PASSWORD.length,
    ]).toEqual([32, 32, 32, 43, 16]);
    expect(a.ADMIN_USER).toBe("admin");
    expect(a.adminPasswordGenerated).toBe(true);
  });

  test("the database passwords are kept in the data dir across starts", () => {
    const dir = dataDir();
    const a = resolveSecrets(undefined, {}, dir);
    const b = resolveSecrets(undefined, {}, dir);
    expect([b.API_DB_PASSWORD, b.ADMIN_DB_PASSWORD]).toEqual([a.API_DB_PASSWORD, a.ADMIN_DB_PASSWORD]);
    expect(JSON.parse(readFileSync(path.join(dir, "db-passwords.json"), "utf8"))).toEqual({
      API_DB_PASSWORD: a.API_DB_PASSWORD,
      ADMIN_DB_PASSWORD: a.ADMIN_DB_PASSWORD,
    });
  });

  test("a data dir from an earlier version keeps its passwords", () => {
    const dir = dataDir();
    resolveSecrets(undefined, {}, dir);
    writeFileSync(
      path.join(dir, "db-passwords.json"),
      JSON.stringify({ API_DB_PASSWORD: "old-api-pw", ADMIN_DB_PASSWORD: "old-admin-pw" }),
    );
    const s = resolveSecrets(undefined, {}, dir);
    expect([s.API_DB_PASSWORD, s.ADMIN_DB_PASSWORD]).toEqual(["old-api-pw", "old-admin-pw"]);
  });

  test("options win over the environment, the environment over generated and stored values", () => {
    const dir = dataDir();
    const env = {
      API_TOKEN: "env-api-token",
      ADMIN_PASSWORD: "env-password",
      API_DB_PASSWORD: "env-db-password",
      ADMIN_USER: "boss",
    };
    const s = resolveSecrets({ API_TOKEN: "option-api-token" }, env, dir);
    expect(s.API_TOKEN).toBe("option-api-token");
    expect(s.ADMIN_PASSWORD).toBe("env-password");
    expect(s.adminPasswordGenerated).toBe(false);
    expect(s.API_DB_PASSWORD).toBe("env-db-password");
    expect(s.ADMIN_USER).toBe("boss");
  });

  test("a published value is refused, naming the variable", () => {
    expect(() => resolveSecrets(undefined, { ADMIN_PASSWORD: "admin-password-change-me" }, dataDir()))
      .toThrow(`ADMIN_PASSWORD: ${PUBLISHED_MESSAGE}`);
    expect(() =>
      resolveSecrets({ SESSION_SECRET: "session-secret-change-me-at-least-32-characters" }, {}, dataDir())
    ).toThrow(`SESSION_SECRET: ${PUBLISHED_MESSAGE}`);
  });
});
