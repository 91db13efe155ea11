import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CacheEnv,
  ConfigError,
  DbEnv,
  isPublished,
  loadConfig,
  port,
  PUBLISHED_SECRETS,
  secret,
} from "./config.ts";

const ROOT = path.resolve(import.meta.dir, "../..");

const entries = { PORT: port(5003), ...DbEnv, TOKEN: secret() };
const good = { DB_USER: "u", DB_PASSWORD: "p", TOKEN: "12345678" };

test("defaults fill what is not set and numbers are parsed", () => {
  const config = loadConfig(entries, good);
  expect(config.PORT).toBe(5003);
  expect(config.DB_PORT).toBe(3306);
  expect(config.DB_POOL_SIZE).toBe(16);
  expect(loadConfig(entries, { ...good, PORT: "8080" }).PORT).toBe(8080);
});

test("a missing or bad variable stops start-up with a message naming it", () => {
  expect(() => loadConfig(entries, { DB_PASSWORD: "p", TOKEN: "12345678" })).toThrow(/DB_USER: is required/);
  expect(() => loadConfig(entries, { ...good, PORT: "http" })).toThrow(/PORT: must be a whole number/);
  expect(() => loadConfig(entries, { ...good, PORT: "70000" })).toThrow(/PORT: must be at most 65535/);
  expect(() => loadConfig(entries, { ...good, TOKEN: "short" })).toThrow(ConfigError);
});

test("CACHE_ENABLED is on unless set to false or 0", () => {
  const cacheEntries = { ...CacheEnv };
  const base = { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079", UPSTASH_REDIS_REST_TOKEN: "t" };
  expect(loadConfig(cacheEntries, base).CACHE_ENABLED).toBe(true);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "false" }).CACHE_ENABLED).toBe(false);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "0" }).CACHE_ENABLED).toBe(false);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "true" }).CACHE_ENABLED).toBe(true);
  expect(() => loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "maybe" })).toThrow(
    /CACHE_ENABLED: must be true or false/,
  );
});

describe("NAME_FILE: a variable's value read from a file (how compose hands out secrets)", () => {
  const files: Record<string, string> = {
    "/run/s/token": "from-the-file-123\n",
    "/run/s/crlf": "crlf-token-123\r\n",
    "/run/s/empty": "\n",
  };
  const readFile = (file: string) => {
    if (file in files) return files[file]!;
    throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
  };
  const load = (env: Record<string, string | undefined>) =>
    loadConfig(entries, { ...good, TOKEN: undefined, ...env }, { readFile });

  test("is used when NAME is unset or empty, without the trailing newline", () => {
    expect(load({ TOKEN_FILE: "/run/s/token" }).TOKEN).toBe("from-the-file-123");
    expect(load({ TOKEN: "", TOKEN_FILE: "/run/s/token" }).TOKEN).toBe("from-the-file-123");
    expect(load({ TOKEN_FILE: "/run/s/crlf" }).TOKEN).toBe("crlf-token-123");
  });

  test("NAME wins when it is set", () => {
    expect(load({ TOKEN: "from-the-env-123", TOKEN_FILE: "/run/s/token" }).TOKEN).toBe("from-the-env-123");
  });

  test("works for any variable of the schema, not only secrets", () => {
    const config = loadConfig(entries, {
      ...good,
      DB_USER: undefined,
      DB_USER_FILE: "/run/s/token",
      PORT_FILE: "/run/s/port",
    }, {
      readFile: (f) => (f === "/run/s/port" ? "5010\n" : readFile(f)),
    });
    expect(config.DB_USER).toBe("from-the-file-123");
    expect(config.PORT).toBe(5010);
  });

  test("an unreadable or empty file stops start-up naming NAME_FILE and the path (and not NAME as missing)", () => {
    const message = (env: Record<string, string>) => {
      try {
        load(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error("loaded");
    };
    const missing = message({ TOKEN_FILE: "/run/s/nope" });
    expect(missing).toContain("TOKEN_FILE: cannot read /run/s/nope (ENOENT)");
    expect(missing).not.toContain("TOKEN: is required");
    expect(message({ TOKEN_FILE: "/run/s/empty" })).toContain("TOKEN_FILE: /run/s/empty is empty");
    // Other variables' problems are still listed with it.
    expect(message({ TOKEN_FILE: "/run/s/nope", PORT: "x" })).toMatch(
      /TOKEN_FILE: cannot read[^]*PORT: must be a whole number/,
    );
  });

  test("reads the real file system by default", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "config-file-"));
    try {
      writeFileSync(path.join(dir, "token"), "on-disk-token-1234\n");
      expect(loadConfig(entries, { ...good, TOKEN: undefined, TOKEN_FILE: path.join(dir, "token") }).TOKEN)
        .toBe("on-disk-token-1234");
      expect(() => loadConfig(entries, { ...good, TOKEN: undefined, TOKEN_FILE: path.join(dir, "nope") }))
        .toThrow(`TOKEN_FILE: cannot read ${path.join(dir, "nope")} (ENOENT)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a secret at a value printed in this repository is refused", () => {
  const published = `is a published example value; set your own or leave it unset to have one generated`;

  test("each of the published examples, with a message naming the variable", () => {
    for (const value of PUBLISHED_SECRETS) {
      expect(() => loadConfig(entries, { ...good, TOKEN: value })).toThrow(`TOKEN: ${published}`);
    }
    expect(() => loadConfig({ API_TOKEN: secret() }, { API_TOKEN: "api-token-change-me" })).toThrow(
      `API_TOKEN: ${published}`,
    );
  });

  test("anything containing change-me, in any case", () => {
    for (const value of ["my-token-change-me-please", "CHANGE-ME-0123", "xx-Change-Me"]) {
      expect(() => loadConfig(entries, { ...good, TOKEN: value })).toThrow(`TOKEN: ${published}`);
    }
  });

  test("the database password and the cache token too, also when read from a file", () => {
    expect(() => loadConfig(entries, { ...good, DB_PASSWORD: "api-db-password-change-me" })).toThrow(
      `DB_PASSWORD: ${published}`,
    );
    expect(() => loadConfig(entries, { ...good, DB_PASSWORD: "bazaar-api-password" })).toThrow(
      `DB_PASSWORD: ${published}`,
    );
    const cache = {
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079",
      UPSTASH_REDIS_REST_TOKEN: "cache-token-change-me",
    };
    expect(() => loadConfig(CacheEnv, cache)).toThrow(`UPSTASH_REDIS_REST_TOKEN: ${published}`);
    const fromFile = { ...good, DB_PASSWORD: undefined, DB_PASSWORD_FILE: "/f" };
    expect(() => loadConfig(entries, fromFile, { readFile: () => "admin-db-password-change-me\n" })).toThrow(
      `DB_PASSWORD: ${published}`,
    );
  });

  test("a value of one's own passes", () => {
    expect(loadConfig(entries, { ...good, TOKEN: "a-token-of-my-own" }).TOKEN).toBe("a-token-of-my-own");
    expect(isPublished("a-token-of-my-own")).toBe(false);
  });

  test("every secret value compose.yaml, .env.example and db/init.sql print is in the refused set", () => {
    const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
    const SECRET_VAR = /(TOKEN|PASSWORD|SECRET)$/;
    const printed: string[] = [];
    for (const m of read("compose.yaml").matchAll(/\$\{([A-Z_][A-Z0-9_]*):?-([^}]*)\}/g)) {
      if (SECRET_VAR.test(m[1]!) && m[2]) printed.push(m[2]);
    }
    for (const m of read(".env.example").matchAll(/^([A-Z_][A-Z0-9_]*)=(.*)$/gm)) {
      if (SECRET_VAR.test(m[1]!) && m[2]!.trim()) printed.push(m[2]!.trim());
    }
    for (const m of read("db/init.sql").matchAll(/IDENTIFIED BY '([^']*)'/g)) printed.push(m[1]!);
    expect(printed.length).toBeGreaterThan(0); // init.sql's first passwords at least: the scan finds them
    expect(printed.filter((value) => !isPublished(value))).toEqual([]);
  });
});
