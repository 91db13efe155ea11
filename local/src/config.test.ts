// The local stack's secrets: lib/src/secrets/secrets.ts's generator and checks, with the
// launcher's own keeping (the database passwords and a generated admin password in
// the data dir, the rest per start).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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
    for (const k of ["API_TOKEN", "ADMIN_API_TOKEN", "SRH_TOKEN", "SESSION_SECRET"] as const) {
      expect(b[k]).not.toBe(a[k]);
    }
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

  test("a generated admin password is kept in the data dir across starts (as compose keeps its own), a new data dir gets a new one", () => {
    const dir = dataDir();
    const a = resolveSecrets(undefined, {}, dir);
    const b = resolveSecrets(undefined, {}, dir);
    const file = path.join(dir, "admin-password");
    expect(b.ADMIN_PASSWORD).toBe(a.ADMIN_PASSWORD);
    expect([a.adminPasswordFile, b.adminPasswordFile]).toEqual([file, file]);
    expect(b.adminPasswordGenerated).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`${a.ADMIN_PASSWORD}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // --fresh deletes the data dir's own files: the next start makes a new one.
    rmSync(file);
    expect(resolveSecrets(undefined, {}, dir).ADMIN_PASSWORD).not.toBe(a.ADMIN_PASSWORD);
    expect(resolveSecrets(undefined, {}, dataDir()).ADMIN_PASSWORD).not.toBe(a.ADMIN_PASSWORD);
  });

  test("ADMIN_PASSWORD from the environment wins over the kept one and is not written to the data dir", () => {
    const dir = dataDir();
    const kept = resolveSecrets(undefined, {}, dir).ADMIN_PASSWORD;
    const s = resolveSecrets(undefined, { ADMIN_PASSWORD: "chosen-password" }, dir);
    expect(s.ADMIN_PASSWORD).toBe("chosen-password");
    expect([s.adminPasswordGenerated, s.adminPasswordFile]).toEqual([false, undefined]);
    expect(readFileSync(path.join(dir, "admin-password"), "utf8")).toBe(`${kept}\n`);
    // Unset again: the kept one is back.
    expect(resolveSecrets(undefined, {}, dir).ADMIN_PASSWORD).toBe(kept);
    const fresh = dataDir();
    resolveSecrets(undefined, { ADMIN_PASSWORD: "chosen-password" }, fresh);
    expect(existsSync(path.join(fresh, "admin-password"))).toBe(false);
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
