// The stack's secrets in one place: their names, how a new one is made, and which
// value wins (the environment's, else the one kept from before, else a new one). Both
// ways of running the stack use it: the local launcher (local/src/config.ts) and, for
// compose, `<app executable> --init-secrets`, a one-shot service that generates them
// once into a volume and hands each service only the files it needs.
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import * as v from "valibot";
import { bearerToken, fileValue, isPublished, secret } from "../config.ts";
import { requestIdKeyMap } from "../request-id.ts";

/**
 * Every secret: the random bytes of a new one (base64url, so 4/3 as many characters),
 * the shortest value the apps' schemas accept, and whether it is sent as a Bearer
 * token (then only token68's characters: lib/src/config.ts bearerToken).
 */
export const SECRETS = {
  api_token: { bytes: 24, min: 8, bearer: true },
  admin_api_token: { bytes: 24, min: 8, bearer: true },
  srh_token: { bytes: 24, min: 1, bearer: true },
  session_secret: { bytes: 32, min: 32 },
  admin_password: { bytes: 12, min: 8 },
  api_db_password: { bytes: 24, min: 1 },
  admin_db_password: { bytes: 24, min: 1 },
  mysql_root_password: { bytes: 24, min: 1 },
  // Redis asks every client for it (redis.conf's requirepass); it is written into a
  // redis:// URL (the cache's connection string) and into redis.conf as it is.
  redis_password: { bytes: 24, min: 1, urlSafe: true },
  // The proxy signs each request id with it, web checks (lib/src/request-id.ts); and the
  // client's address and host on the admin's POSTs, admin checks (lib/src/forwarded.ts).
  request_id_key: { bytes: 32, min: 32 },
} as const;
export type SecretName = keyof typeof SECRETS;
export const SECRET_NAMES = Object.keys(SECRETS) as SecretName[];

/** The variable that sets a secret: its name in upper case (api_token: API_TOKEN). */
export const envName = (name: SecretName) => name.toUpperCase();

export class SecretError extends Error {}

/**
 * How a secret is made and checked: its random bytes, the shortest value accepted,
 * whether it is a Bearer token, and whether it goes unescaped into a URL and a config
 * file (then only RFC 3986's unreserved characters, as a generated one is).
 */
export type SecretSpec = {
  readonly bytes: number;
  readonly min: number;
  readonly bearer?: boolean;
  readonly urlSafe?: boolean;
};

/** A new random value of that many bytes (base64url). */
export function randomSecret({ bytes }: SecretSpec): string {
  for (;;) {
    const value = randomBytes(bytes).toString("base64url");
    // Random base64url spelling "change-me" is all but impossible; never hand it out anyway.
    if (!isPublished(value)) return value;
  }
}

/** A new random value for a secret. */
export const newSecret = (name: SecretName) => randomSecret(SECRETS[name]);

/** Refuses what the apps would refuse (too short, a published value), naming where it came from. */
export function checkValue({ min, bearer, urlSafe }: SecretSpec, value: string, from: string) {
  const result = v.safeParse(bearer ? bearerToken(min) : secret(min), value);
  if (!result.success) throw new SecretError(`${from}: ${result.issues[0].message}`);
  if (urlSafe && !/^[A-Za-z0-9._~-]*$/.test(value)) {
    throw new SecretError(
      `${from}: may hold only letters, digits and - . _ ~ (it goes into a redis:// URL and redis.conf as it is)`,
    );
  }
}

export type Source = "env" | "stored" | "generated";

/**
 * One value: the given one when set and not empty (checked, named `label`), else the
 * stored one, else a new one. Also for the local stack's own, such as the stats login.
 */
export function chooseValue(
  spec: SecretSpec,
  label: string,
  given: string | undefined,
  stored?: { value: string; from: string },
): { value: string; source: Source } {
  if (given) {
    checkValue(spec, given, label);
    return { value: given, source: "env" };
  }
  if (stored) {
    checkValue(spec, stored.value, stored.from);
    return { value: stored.value, source: "stored" };
  }
  return { value: randomSecret(spec), source: "generated" };
}

/** One of the stack's secrets, chosen as chooseValue does. */
export const chooseSecret = (
  name: SecretName,
  given: string | undefined,
  stored?: { value: string; from: string },
) => chooseValue(SECRETS[name], envName(name), given, stored);

// ---- compose: --init-secrets -----------------------------------------------------------

/** Which service's folder gets which secrets (each folder is a volume only that service mounts). */
export const CONSUMERS = {
  web: ["api_token", "request_id_key"],
  admin: ["admin_api_token", "admin_password", "session_secret", "request_id_key"],
  api: ["api_token", "srh_token", "api_db_password"],
  "admin-api": ["admin_api_token", "srh_token", "admin_db_password"],
  db: ["mysql_root_password", "api_db_password", "admin_db_password"],
} as const satisfies Record<string, readonly SecretName[]>;

/** The master copies, read back on every later run. */
export const STORE = "store";
/** SRH's file mode (SRH_MODE=file) reads tokens.json, mounted at /app/srh-config. */
export const CACHE = "cache";
export const TOKENS_FILE = "tokens.json";
/** HAProxy reads request_id_key as a map file (proxy/haproxy.cfg), mounted at /run/bazaar-secrets. */
export const PROXY = "proxy";
export const REQUEST_ID_KEY_MAP_FILE = "request_id_key.map";
/**
 * Redis reads its password from redis.conf (compose.yaml gives redis-server that file),
 * and its health check (redis-cli) from redis_password; both at /run/bazaar-secrets.
 */
export const REDIS = "redis";
export const REDIS_CONF_FILE = "redis.conf";
export const REDIS_PASSWORD_FILE = "redis_password";
export const DEFAULT_SECRETS_DIR = "/secrets";
export const DEFAULT_SRH_CONNECTION_STRING = "redis://redis:6379";

/**
 * File modes. The app images all run as distroless's nonroot (uid/gid 65532), the
 * same user that writes these, so the store and the app folders need no bits for
 * others (0640). db/ is read by the mysql image's entrypoint and db/accounts.sh as
 * mysql (uid 999), cache/ by SRH's image (or the bridge standing in for it), proxy/
 * by the haproxy image (user haproxy) and redis/ by the redis image (user redis), each
 * as a user of its own: those must be readable by others (0644).
 */
const MODE = { private: 0o640, shared: 0o644 } as const;
const modeOf = (folder: string) =>
  folder === "db" || folder === CACHE || folder === PROXY || folder === REDIS ? MODE.shared : MODE.private;

/** The lines of a redis.conf that make Redis ask every client for this password (a checked one: no quoting needed). */
export const redisConf = (password: string) =>
  `# Written for Redis by Bazaar (lib/src/secrets/secrets.ts): every client must AUTH with this.\nrequirepass ${password}\n`;

/** A redis:// URL with this password, unless it names one of its own (redis://:password@host:port). */
export function withRedisPassword(url: string, password: string): string {
  const u = new URL(url);
  if (u.password) return url;
  u.password = password;
  return u.href;
}

/** The SRH tokens.json for one token (SRH's file format; max_connections is SRH's default). */
export const srhTokens = (token: string, connectionString: string) => ({
  [token]: { srh_id: "bazaar", connection_string: connectionString, max_connections: 3 },
});

const reason = (err: unknown) => (err as { code?: string }).code ?? String(err);

/** Write-then-rename, so a reader never sees half a file (the services start while this runs again). */
function writeAtomic(file: string, content: string, mode: number) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode); // the umask may have taken bits away
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const uid = process.getuid?.();
    throw new SecretError(
      `cannot write ${file} (${reason(err)})${
        uid === undefined ? "" : `: its folder must be writable by uid ${uid}`
      }`,
    );
  }
}

function readStored(file: string): { value: string; from: string } | undefined {
  let content: string;
  try {
    content = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw new SecretError(`cannot read ${file} (${reason(err)})`);
  }
  const value = fileValue(content);
  if (!value) throw new SecretError(`${file} is empty: delete it to have a new one generated`);
  return { value, from: file };
}

export type InitResult = { values: Record<SecretName, string>; sources: Record<SecretName, Source> };

/**
 * Generates every secret not set in `env` and not kept from an earlier run, keeps them
 * in `dir`/store, and writes each consumer's folder, the cache's tokens.json, the
 * proxy's map file and Redis's redis.conf. Every folder must exist already (each is a
 * volume): a missing one is a mount forgotten in compose.yaml, and writing into the
 * container's own filesystem would lose it.
 */
export function initSecrets(dir: string, env: Record<string, string | undefined>): InitResult {
  const folders = [STORE, ...Object.keys(CONSUMERS), CACHE, PROXY, REDIS];
  const missing = folders.filter((f) => {
    try {
      return !statSync(path.join(dir, f)).isDirectory();
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new SecretError(
      `missing folder(s) ${
        missing.map((f) => path.join(dir, f)).join(", ")
      }: each must be a volume mounted into this service (compose.yaml)`,
    );
  }

  const values = {} as Record<SecretName, string>;
  const sources = {} as Record<SecretName, Source>;
  for (const name of SECRET_NAMES) {
    const chosen = chooseSecret(name, env[envName(name)], readStored(path.join(dir, STORE, name)));
    values[name] = chosen.value;
    sources[name] = chosen.source;
  }
  // All checked before anything is written: a bad value leaves the store as it was.
  // The environment's values are kept too, so the database's passwords stay known
  // if the variable is later unset.
  for (const name of SECRET_NAMES) writeAtomic(path.join(dir, STORE, name), values[name], MODE.private);
  for (const [folder, names] of Object.entries(CONSUMERS)) {
    for (const name of names) writeAtomic(path.join(dir, folder, name), values[name], modeOf(folder));
  }
  // SRH reaches Redis with its password in the connection string (as SRH reads it).
  const redisUrl = withRedisPassword(
    env.SRH_CONNECTION_STRING || DEFAULT_SRH_CONNECTION_STRING,
    values.redis_password,
  );
  const tokens = srhTokens(values.srh_token, redisUrl);
  writeAtomic(path.join(dir, CACHE, TOKENS_FILE), JSON.stringify(tokens, null, 2) + "\n", modeOf(CACHE));
  writeAtomic(
    path.join(dir, PROXY, REQUEST_ID_KEY_MAP_FILE),
    requestIdKeyMap(values.request_id_key),
    modeOf(PROXY),
  );
  writeAtomic(path.join(dir, REDIS, REDIS_CONF_FILE), redisConf(values.redis_password), modeOf(REDIS));
  writeAtomic(path.join(dir, REDIS, REDIS_PASSWORD_FILE), values.redis_password, modeOf(REDIS));
  return { values, sources };
}

/**
 * A compose command in both spellings: Compose v2 is `docker compose`; v1, which
 * Debian 12 ships (docker-compose 1.29), is `docker-compose` and has no `docker compose`.
 */
export const composeBoth = (args: string) => `docker compose ${args} (Compose v1: docker-compose ${args})`;

/** What --init-secrets prints: which secrets came from where (names only) and the admin password's whereabouts. */
export function initReport(
  dir: string,
  { values, sources }: InitResult,
  env: Record<string, string | undefined>,
): string[] {
  const from = (source: Source) => SECRET_NAMES.filter((n) => sources[n] === source);
  const list = (names: string[]) => names.join(", ");
  const lines: string[] = [];
  if (from("generated").length) lines.push(`generated: ${list(from("generated"))}`);
  if (from("stored").length) lines.push(`kept from ${path.join(dir, STORE)}: ${list(from("stored"))}`);
  if (from("env").length) lines.push(`from the environment: ${list(from("env").map(envName))}`);
  const user = env.ADMIN_USER || "admin";
  // As Jenkins and GitLab do: a generated password is shown once, in this service's log.
  if (sources.admin_password === "generated") {
    lines.push(
      `admin password (generated): ${values.admin_password} — sign in at /admin as ${user}; read it again with: ${
        composeBoth("logs secrets")
      }`,
    );
  } else if (sources.admin_password === "stored") {
    lines.push(
      `admin password: generated on an earlier start, kept in ${
        path.join(dir, STORE, "admin_password")
      } — sign in at /admin as ${user}; show it with: ${
        composeBoth("run --rm secrets --show-admin-password")
      }`,
    );
  } else {
    lines.push(`admin password: ADMIN_PASSWORD from your environment or .env — sign in at /admin as ${user}`);
  }
  return lines;
}

/**
 * The one-shot modes of every app executable, run before any app config is read:
 * `--init-secrets` and `--show-admin-password` (for after `docker compose down`, when
 * the first run's log is gone). Returns the exit code, or undefined for neither.
 */
export function secretsCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  out = { log: console.log, error: console.error },
): number | undefined {
  const dir = env.SECRETS_DIR || DEFAULT_SECRETS_DIR;
  if (argv.includes("--init-secrets")) {
    try {
      const result = initSecrets(dir, env);
      for (const line of initReport(dir, result, env)) out.log(`secrets: ${line}`);
      return 0;
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      out.error(`secrets: ${err.message}`);
      return 1;
    }
  }
  if (argv.includes("--show-admin-password")) {
    try {
      const stored = env.ADMIN_PASSWORD || readStored(path.join(dir, STORE, "admin_password"))?.value;
      if (stored) {
        out.log(stored);
        return 0;
      }
      out.error(`secrets: no admin password yet in ${path.join(dir, STORE)} (run --init-secrets first)`);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      out.error(`secrets: ${err.message}`);
    }
    return 1;
  }
  return undefined;
}
