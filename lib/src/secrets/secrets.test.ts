import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as v from "valibot";
import { AdminApiEnv } from "../../../admin-api/src/config.ts";
import { AdminEnv } from "../../../admin/src/config.ts";
import { ApiEnv } from "../../../api/src/config.ts";
import { WebEnv } from "../../../web/src/config.ts";
import { build } from "../../../scripts/build.ts";
import { BridgeTokenEnv } from "../../../bridge/src/config.ts";
import { CacheEnv, loadConfig, PUBLISHED_MESSAGE, PUBLISHED_SECRETS, TOKEN68_MESSAGE } from "../config.ts";
import {
  CONSUMERS,
  envName,
  initSecrets,
  newSecret,
  SECRET_NAMES,
  type SecretName,
  SECRETS,
  secretsCommand,
} from "./secrets.ts";
import { requestIdKeyMap } from "../request-id.ts";

const ROOT = path.resolve(import.meta.dir, "../../..");
const FOLDERS = ["store", ...Object.keys(CONSUMERS), "cache", "proxy", "redis"];
const tmp = mkdtempSync(path.join(tmpdir(), "secrets-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let dir: string;
let n = 0;
/** A fresh SECRETS_DIR with every folder compose mounts (each a volume there). */
beforeEach(() => {
  dir = path.join(tmp, `run-${n++}`);
  for (const f of FOLDERS) mkdirSync(path.join(dir, f), { recursive: true });
});

const read = (...parts: string[]) => readFileSync(path.join(dir, ...parts), "utf8");
const ls = (folder: string) => readdirSync(path.join(dir, folder)).sort();
const mode = (...parts: string[]) => statSync(path.join(dir, ...parts)).mode & 0o777;
const run = (argv: string[], env: Record<string, string | undefined> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = secretsCommand(argv, { SECRETS_DIR: dir, ...env }, {
    log: (l: string) => out.push(l),
    error: (l: string) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
};

describe("new secrets", () => {
  test("are random base64url of the local stack's lengths, and long enough for the apps", () => {
    for (const name of SECRET_NAMES) {
      const a = newSecret(name);
      expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(a.length).toBe(Math.ceil((SECRETS[name].bytes * 4) / 3));
      expect(a.length).toBeGreaterThanOrEqual(SECRETS[name].min);
      expect(newSecret(name)).not.toBe(a);
    }
    expect(newSecret("api_token").length).toBe(32); // 24 bytes
    expect(newSecret("session_secret").length).toBe(43); // 32 bytes
    expect(newSecret("admin_password").length).toBe(16); // 12 bytes
  });
});

describe("--init-secrets", () => {
  test("writes the store and exactly each consumer's files, the same value everywhere", () => {
    const { values, sources } = initSecrets(dir, {});
    expect(ls("store")).toEqual([...SECRET_NAMES].sort());
    expect(ls("web")).toEqual(["api_token", "request_id_key"]);
    expect(ls("admin")).toEqual(["admin_api_token", "admin_password", "request_id_key", "session_secret"]);
    expect(ls("api")).toEqual(["api_db_password", "api_token", "srh_token"]);
    expect(ls("admin-api")).toEqual(["admin_api_token", "admin_db_password", "srh_token"]);
    expect(ls("db")).toEqual(["admin_db_password", "api_db_password", "mysql_root_password"]);
    expect(ls("cache")).toEqual(["tokens.json"]);
    expect(ls("proxy")).toEqual(["request_id_key.map"]);
    expect(ls("redis")).toEqual(["redis.conf", "redis_password"]);
    for (const name of SECRET_NAMES) {
      expect(sources[name]).toBe("generated");
      expect(read("store", name)).toBe(values[name]);
    }
    for (const [folder, names] of Object.entries(CONSUMERS)) {
      for (const name of names) expect(read(folder, name)).toBe(values[name as SecretName]);
    }
    // Every secret its own value.
    expect(new Set(Object.values(values)).size).toBe(SECRET_NAMES.length);
  });

  test("the cache gets SRH's tokens.json for the srh token, to SRH_CONNECTION_STRING (default redis://redis:6379) with Redis's password", () => {
    const { values } = initSecrets(dir, {});
    expect(JSON.parse(read("cache", "tokens.json"))).toEqual({
      [values.srh_token]: {
        srh_id: "bazaar",
        connection_string: `redis://:${values.redis_password}@redis:6379`,
        max_connections: 3,
      },
    });
    initSecrets(dir, { SRH_CONNECTION_STRING: "redis://elsewhere:6380" });
    expect(JSON.parse(read("cache", "tokens.json"))[values.srh_token].connection_string).toBe(
      `redis://:${values.redis_password}@elsewhere:6380`,
    );
    // One that names its own password keeps it.
    initSecrets(dir, { SRH_CONNECTION_STRING: "redis://:its-own@elsewhere:6380" });
    expect(JSON.parse(read("cache", "tokens.json"))[values.srh_token].connection_string).toBe(
      "redis://:its-own@elsewhere:6380",
    );
  });

  test("Redis gets its password as the redis.conf it starts with, and alone for redis-cli", () => {
    const { values } = initSecrets(dir, {});
    expect(read("redis", "redis.conf")).toContain(`\nrequirepass ${values.redis_password}\n`);
    expect(read("redis", "redis_password")).toBe(values.redis_password);
    expect(read("redis", "redis.conf").split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      `requirepass ${values.redis_password}`,
    ]);
  });

  test("a chosen REDIS_PASSWORD must be safe in a URL and redis.conf as it is (no space, quote, @, / or newline)", () => {
    for (const bad of ["two words", 'a"quote', "at@sign", "a/slash", "new\nline requirepass x", "per%cent"]) {
      expect(() => initSecrets(dir, { REDIS_PASSWORD: bad })).toThrow(
        "REDIS_PASSWORD: may hold only letters, digits and - . _ ~",
      );
    }
    expect(initSecrets(dir, { REDIS_PASSWORD: "Chosen-pass_1.0~" }).values.redis_password).toBe(
      "Chosen-pass_1.0~",
    );
    expect(read("redis", "redis.conf")).toContain("requirepass Chosen-pass_1.0~\n");
  });

  test("the proxy gets web's and admin's request_id_key as the HAProxy map file haproxy.cfg loads", () => {
    const { values } = initSecrets(dir, {});
    expect(read("proxy", "request_id_key.map")).toBe(requestIdKeyMap(values.request_id_key));
    expect(read("web", "request_id_key")).toBe(values.request_id_key);
    expect(read("admin", "request_id_key")).toBe(values.request_id_key);
  });

  test("db/, cache/, proxy/ and redis/ are readable by other users (mysql, SRH, haproxy, redis), the rest only by owner and group", () => {
    initSecrets(dir, {});
    for (const name of CONSUMERS.db) expect(mode("db", name)).toBe(0o644);
    expect(mode("cache", "tokens.json")).toBe(0o644);
    expect(mode("proxy", "request_id_key.map")).toBe(0o644);
    for (const name of ["redis.conf", "redis_password"]) expect(mode("redis", name)).toBe(0o644);
    for (const folder of ["store", "web", "admin", "api", "admin-api"]) {
      for (const name of ls(folder)) expect(mode(folder, name)).toBe(0o640);
    }
  });

  test("a later run keeps the stored values", () => {
    const first = initSecrets(dir, {});
    const second = initSecrets(dir, {});
    expect(second.values).toEqual(first.values);
    for (const name of SECRET_NAMES) expect(second.sources[name]).toBe("stored");
    expect(read("api", "api_token")).toBe(first.values.api_token);
  });

  test("values from the environment win over stored ones, and are kept when later unset", () => {
    const first = initSecrets(dir, {});
    const env = { API_TOKEN: "my-own-api-token", ADMIN_PASSWORD: "my-own-password", API_DB_PASSWORD: "" };
    const second = initSecrets(dir, env);
    expect(second.sources.api_token).toBe("env");
    expect(second.sources.admin_password).toBe("env");
    // Empty counts as unset.
    expect(second.sources.api_db_password).toBe("stored");
    expect(read("web", "api_token")).toBe("my-own-api-token");
    expect(read("api", "api_token")).toBe("my-own-api-token");
    expect(read("admin", "admin_password")).toBe("my-own-password");
    expect(read("admin", "session_secret")).toBe(first.values.session_secret);
    const third = initSecrets(dir, {});
    expect(third.values.api_token).toBe("my-own-api-token");
    expect(third.sources.api_token).toBe("stored");
  });

  test("every variable is the secret's name in upper case", () => {
    for (const name of SECRET_NAMES) {
      const value = `${name}-set-by-env-0123456789-0123456789`;
      expect(initSecrets(dir, { [envName(name)]: value }).values[name]).toBe(value);
    }
    expect(SECRET_NAMES.map(envName)).toEqual([
      "API_TOKEN",
      "ADMIN_API_TOKEN",
      "SRH_TOKEN",
      "SESSION_SECRET",
      "ADMIN_PASSWORD",
      "API_DB_PASSWORD",
      "ADMIN_DB_PASSWORD",
      "MYSQL_ROOT_PASSWORD",
      "REDIS_PASSWORD",
      "REQUEST_ID_KEY",
    ]);
  });

  test("a missing folder is an error naming it, and nothing is written", () => {
    rmSync(path.join(dir, "admin-api"), { recursive: true });
    rmSync(path.join(dir, "cache"), { recursive: true });
    const r = run(["--init-secrets"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(path.join(dir, "admin-api"));
    expect(r.err).toContain(path.join(dir, "cache"));
    expect(r.err).toContain("must be a volume mounted");
    expect(ls("store")).toEqual([]);
  });

  test("a published value is refused, naming the variable, and nothing is written", () => {
    for (const value of [...PUBLISHED_SECRETS, "mine-change-me-0123456789"]) {
      const r = run(["--init-secrets"], { API_TOKEN: value });
      expect(r.code).toBe(1);
      expect(r.err).toBe(`secrets: API_TOKEN: ${PUBLISHED_MESSAGE}`);
    }
    // Said first, even when the value is too short as well.
    expect(run(["--init-secrets"], { SESSION_SECRET: "admin-password-change-me" }).err).toBe(
      `secrets: SESSION_SECRET: ${PUBLISHED_MESSAGE}`,
    );
    expect(ls("store")).toEqual([]);
  });

  test("a Bearer token with a character token68 has not is refused here, naming the variable, as the apps refuse it", () => {
    for (const name of ["API_TOKEN", "ADMIN_API_TOKEN", "SRH_TOKEN"]) {
      const r = run(["--init-secrets"], { [name]: "my token with spaces" });
      expect(r.code).toBe(1);
      expect(r.err).toBe(`secrets: ${name}: ${TOKEN68_MESSAGE}`);
    }
    expect(ls("store")).toEqual([]);
  });

  test("a value the apps would refuse as too short is refused here too", () => {
    const r = run(["--init-secrets"], { SESSION_SECRET: "too-short" });
    expect(r.code).toBe(1);
    expect(r.err).toBe("secrets: SESSION_SECRET: must be at least 32 characters");
  });

  test("an empty stored file is an error naming it", () => {
    initSecrets(dir, {});
    writeFileSync(path.join(dir, "store", "srh_token"), "");
    const r = run(["--init-secrets"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path.join(dir, "store", "srh_token")} is empty`);
  });

  test("prints a generated admin password once, where it is afterwards, and no other secret", () => {
    const first = run(["--init-secrets"], { ADMIN_USER: "boss" });
    expect(first.code).toBe(0);
    const values = Object.fromEntries(SECRET_NAMES.map((name) => [name, read("store", name)])) as Record<
      SecretName,
      string
    >;
    expect(first.out).toContain(`admin password (generated): ${values.admin_password}`);
    // Both spellings: Compose v2's, and v1's (Debian 12's docker-compose has no `docker compose`).
    expect(first.out).toContain(
      "read it again with: docker compose logs secrets (Compose v1: docker-compose logs secrets)",
    );
    expect(first.out).toContain("as boss");
    const second = run(["--init-secrets"]);
    expect(second.code).toBe(0);
    expect(second.out).not.toContain(values.admin_password);
    expect(second.out).toContain(path.join(dir, "store", "admin_password"));
    expect(second.out).toContain(
      "show it with: docker compose run --rm secrets --show-admin-password (Compose v1: docker-compose run --rm secrets --show-admin-password)",
    );
    const fromEnv = run(["--init-secrets"], { ADMIN_PASSWORD: "the-users-own-password" });
    expect(fromEnv.out).not.toContain("the-users-own-password");
    expect(fromEnv.out).toContain("ADMIN_PASSWORD from your environment");
    for (const name of SECRET_NAMES.filter((n) => n !== "admin_password")) {
      for (const r of [first, second, fromEnv]) expect(r.out).not.toContain(values[name]);
    }
  });

  test("--show-admin-password prints the stored one; before any run it says so", () => {
    expect(run(["--show-admin-password"]).code).toBe(1);
    initSecrets(dir, {});
    const r = run(["--show-admin-password"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(read("store", "admin_password"));
  });

  test("any other argv is not a secrets command", () => {
    expect(run([]).code).toBeUndefined();
    expect(run(["--healthcheck"]).code).toBeUndefined();
  });
});

describe("every app refuses a published value for each secret it reads", () => {
  // (The bridge's SRH_TOKEN: bridge/src/config.test.ts.)
  const schemas = { api: ApiEnv, "admin-api": AdminApiEnv, web: WebEnv, admin: AdminEnv };
  const SECRET_VAR = /(TOKEN|PASSWORD|SECRET)$/;
  for (const [app, entries] of Object.entries(schemas)) {
    test(app, () => {
      const secrets = Object.keys(entries).filter((k) => SECRET_VAR.test(k));
      expect(secrets.length).toBeGreaterThan(0);
      for (const name of secrets) {
        const schema = (entries as Record<string, v.GenericSchema>)[name]!;
        for (
          const value of [
            "x-change-me-0123456789-0123456789-0123456789",
            "session-secret-change-me-at-least-32-characters",
          ]
        ) {
          const r = v.safeParse(schema, value);
          expect({ name, ok: r.success, message: r.issues?.map((i) => i.message) }).toEqual({
            name,
            ok: false,
            message: [PUBLISHED_MESSAGE],
          });
        }
        expect({ name, ok: v.safeParse(schema, newSecret("session_secret")).success }).toEqual({
          name,
          ok: true,
        });
      }
    });
  }
});

describe("the executables run --init-secrets before reading their config", () => {
  // admin-api's image runs compose's secrets service; its config would fail without
  // DB_* and the cache's variables, which that service does not get.
  const check = async (argv: string[]) => {
    const secrets = path.join(tmp, `entry-${n++}`);
    for (const f of FOLDERS) mkdirSync(path.join(secrets, f), { recursive: true });
    const proc = Bun.spawn(argv, {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, SECRETS_DIR: secrets },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(out).toContain(
      `admin password (generated): ${readFileSync(path.join(secrets, "store", "admin_password"), "utf8")}`,
    );
    expect(readdirSync(path.join(secrets, "db")).sort()).toEqual([
      "admin_db_password",
      "api_db_password",
      "mysql_root_password",
    ]);
  };

  test("under Bun", () => check([process.execPath, "admin-api/src/main.ts", "--init-secrets"]));

  test("under Deno", () => {
    const deno = path.join(ROOT, "node_modules/deno/deno");
    expect(existsSync(deno)).toBe(true);
    return check([deno, "run", "-A", "admin-api/src/main.deno.ts", "--init-secrets"]);
  });

  test("compiled (bun build --compile, as the image ships it)", async () => {
    const [built] = await build(["admin-api"], path.join(tmp, "dist"));
    await check([built!.file, "--init-secrets"]);
  }, 60_000);
});

describe("Bearer tokens (API_TOKEN, ADMIN_API_TOKEN, UPSTASH_REDIS_REST_TOKEN, SRH_TOKEN)", () => {
  // Before, such a token started every app, and then every call between them was 400.
  const BAD = [
    "has a space-0123456789",
    "colon:0123456789",
    'quote"0123456789',
    "café-0123456789",
    "a=b-0123456789",
  ];
  const GOOD = ["abcDEF-._~+/0123456789", "base64padded0123456789==", newSecret("api_token")];
  const apps = {
    api: [ApiEnv, "API_TOKEN"],
    web: [WebEnv, "API_TOKEN"],
    admin: [AdminEnv, "ADMIN_API_TOKEN"],
    "admin-api": [AdminApiEnv, "ADMIN_API_TOKEN"],
    "api and admin-api's cache client": [CacheEnv, "UPSTASH_REDIS_REST_TOKEN"],
    bridge: [BridgeTokenEnv, "SRH_TOKEN"],
  } as const;
  const problem = (entries: v.ObjectEntries, name: string, value: string) => {
    const only = { [name]: entries[name]! };
    try {
      loadConfig(only, { [name]: value });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  test("one with a character token68 has not stops the app at start, with a message naming the variable and what is allowed", () => {
    for (const [app, [entries, name]] of Object.entries(apps)) {
      for (const value of BAD) {
        expect({ app, value, problem: problem(entries, name, value) }).toEqual({
          app,
          value,
          problem: `bad configuration:\n  ${name}: ${TOKEN68_MESSAGE}`,
        });
      }
      for (const value of GOOD) {
        expect({ app, value, problem: problem(entries, name, value) }).toEqual({
          app,
          value,
          problem: undefined,
        });
      }
    }
  });

  test("the stack's generator makes only token68 tokens, and refuses a chosen one that is not", () => {
    for (const name of ["api_token", "admin_api_token", "srh_token"] as const) {
      expect(SECRETS[name].bearer).toBe(true);
      expect(() => initSecrets(dir, { [envName(name)]: BAD[0] })).toThrow(
        `${envName(name)}: ${TOKEN68_MESSAGE}`,
      );
    }
  });
});
