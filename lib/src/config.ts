// Config comes from the environment, parsed once at start-up. A missing or bad
// variable stops the app with a message naming it. Any variable NAME may instead be
// given as NAME_FILE, a file holding the value (how compose hands out secrets).
import { readFileSync } from "node:fs";
import * as v from "valibot";

export const text = (fallback?: string) =>
  fallback === undefined
    ? v.pipe(v.string("is required"), v.minLength(1, "is required"))
    : v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty")), fallback);

/**
 * Values printed in this repository as examples or defaults (compose.yaml's former
 * defaults, .env.example's, db/init.sql's first account passwords): anyone who reads
 * the repo knows them, so no secret may have one.
 */
export const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  "api-token-change-me",
  "admin-api-token-change-me",
  "cache-token-change-me",
  "admin-password-change-me",
  "session-secret-change-me-at-least-32-characters",
  "api-db-password-change-me",
  "admin-db-password-change-me",
  "root-password-change-me",
  "bazaar-api-password",
  "bazaar-admin-password",
]);

/** A published value, or anything made from the examples' "change-me" marker. */
export const isPublished = (value: string) => PUBLISHED_SECRETS.has(value) || /change-me/i.test(value);

export const PUBLISHED_MESSAGE =
  "is a published example value; set your own or leave it unset to have one generated";

/** A token, password or key: at least `min` characters, and not a value this repo prints. */
export const secret = (min = 8) =>
  v.pipe(
    v.string("is required"),
    v.check((s) => !isPublished(s), PUBLISHED_MESSAGE),
    v.minLength(min, min === 1 ? "is required" : `must be at least ${min} characters`),
  );

/**
 * What a Bearer token may be made of (RFC 6750's b64token, RFC 7235's token68):
 * letters, digits and - . _ ~ + /, then = only at the end. Anything else (a space, a
 * colon, a quote, a non-ASCII letter) makes `Authorization: Bearer <token>` a header
 * the other side refuses as malformed (400), on every call.
 */
export const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export const TOKEN68_MESSAGE =
  "must be usable as a Bearer token: only letters, digits and - . _ ~ + / (and = at the end), no spaces";

/** A secret sent as `Authorization: Bearer <token>`: also refused at start unless it is token68. */
export const bearerToken = (min = 8) =>
  v.pipe(secret(min), v.check((s) => s === "" || TOKEN68.test(s), TOKEN68_MESSAGE));

const whole = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^[0-9]+$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

export const integer = (fallback: number, min = 0, max = 2 ** 31) =>
  v.optional(whole(min, max), String(fallback));

export const flag = (fallback: boolean) =>
  v.optional(
    v.pipe(
      v.string(),
      v.picklist(["true", "false", "1", "0"], "must be true or false"),
      v.transform((s) => s === "true" || s === "1"),
    ),
    String(fallback),
  );

export const port = (fallback: number) => integer(fallback, 1, 65535);

/**
 * A whole number with no default: undefined when unset or empty — compose passes an
 * unset `${NAME:-}` on as "", which means "not set" here, not "not a number".
 */
export const optionalInteger = (min: number, max: number) =>
  v.pipe(v.optional(v.string()), v.transform((s) => (s === "" ? undefined : s)), v.optional(whole(min, max)));

/** A port with no default: undefined when unset. */
export const optionalPort = () => v.optional(whole(1, 65535));

export const url = () => v.pipe(v.string("is required"), v.url("must be a URL"));

// Naming: an `…Env` here and in each app's config.ts is a set of environment variables
// (valibot entries); Hono's `Env` types are `…HonoEnv` (lib/src/log.ts HonoEnv).

/** Where an app listens and what it calls itself. */
export const ServerEnv = {
  HOST: text("0.0.0.0"),
  /** Shown with the hostname where several instances share one machine (e.g. "web-1"). */
  INSTANCE_NAME: v.optional(v.string(), ""),
  /** After SIGTERM, keep serving this long with /healthz at 503 so the balancer moves away. */
  SHUTDOWN_DRAIN_MS: integer(0, 0, 60000),
};

export const DbEnv = {
  DB_HOST: text("127.0.0.1"),
  DB_PORT: port(3306),
  DB_NAME: text("bazaar"),
  DB_USER: text(),
  DB_PASSWORD: secret(1),
  DB_POOL_SIZE: integer(16, 1, 512),
};

export const CacheEnv = {
  UPSTASH_REDIS_REST_URL: url(),
  UPSTASH_REDIS_REST_TOKEN: bearerToken(1),
  CACHE_TTL_SECONDS: integer(300, 1, 86400),
  CACHE_TIMEOUT_MS: integer(500, 10, 60000),
  /** false serves every read from the database (to measure what the cache is worth). */
  CACHE_ENABLED: flag(true),
};

export class ConfigError extends Error {}

export type LoadOptions = {
  /** Reads a NAME_FILE (tests give their own). */
  readFile?: (path: string) => string;
};

/** A file's value: without the trailing newline editors and `echo` add. */
export const fileValue = (content: string) => content.replace(/[\r\n]+$/, "");

const reason = (err: unknown) =>
  (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));

/**
 * Parse `env` with an object schema; throws ConfigError naming every bad variable.
 * A variable that is unset or empty is read from the file NAME_FILE names, if set.
 */
export function loadConfig<const E extends v.ObjectEntries>(
  entries: E,
  env: Record<string, string | undefined>,
  { readFile = (file) => readFileSync(file, "utf8") }: LoadOptions = {},
): v.InferOutput<v.ObjectSchema<E, undefined>> {
  const values: Record<string, string | undefined> = { ...env };
  const lines: string[] = [];
  const fromBadFile = new Set<string>();
  for (const name of Object.keys(entries)) {
    const file = env[`${name}_FILE`];
    if (env[name] || !file) continue;
    let problem: string | undefined;
    try {
      values[name] = fileValue(readFile(file));
      if (values[name] === "") problem = `${file} is empty`;
    } catch (err) {
      problem = `cannot read ${file} (${reason(err)})`;
    }
    if (problem) {
      // The file's problem says it all; "NAME: is required" on top would mislead.
      fromBadFile.add(name);
      lines.push(`  ${name}_FILE: ${problem}`);
    }
  }
  const result = v.safeParse(v.object(entries), values);
  if (result.success && !lines.length) return result.output;
  for (const i of result.issues ?? []) {
    const name = v.getDotPath(i) ?? "?";
    if (!fromBadFile.has(name)) lines.push(`  ${name}: ${i.input === undefined ? "is required" : i.message}`);
  }
  throw new ConfigError(`bad configuration:\n${lines.join("\n")}`);
}
