// Config comes from the environment, parsed once at start-up. A missing or bad
// variable stops the app with a message naming it.
import * as v from "valibot";

export const text = (fallback?: string) =>
  fallback === undefined
    ? v.pipe(v.string("is required"), v.minLength(1, "is required"))
    : v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty")), fallback);

export const secret = () =>
  v.pipe(v.string("is required"), v.minLength(8, "must be at least 8 characters"));

export const integer = (fallback: number, min = 0, max = 2 ** 31) =>
  v.optional(
    v.pipe(v.string(), v.regex(/^[0-9]+$/, "must be a whole number"), v.transform(Number), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`)),
    String(fallback),
  );

export const flag = (fallback: boolean) =>
  v.optional(
    v.pipe(v.string(), v.picklist(["true", "false", "1", "0"], "must be true or false"), v.transform((s) => s === "true" || s === "1")),
    String(fallback),
  );

export const port = (fallback: number) => integer(fallback, 1, 65535);

export const url = () => v.pipe(v.string("is required"), v.url("must be a URL"));

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
  DB_PASSWORD: text(),
  DB_POOL_SIZE: integer(16, 1, 512),
};

export const CacheEnv = {
  UPSTASH_REDIS_REST_URL: url(),
  UPSTASH_REDIS_REST_TOKEN: text(),
  CACHE_TTL_SECONDS: integer(300, 1, 86400),
  CACHE_TIMEOUT_MS: integer(500, 10, 60000),
  /** false serves every read from the database (to measure what the cache is worth). */
  CACHE_ENABLED: flag(true),
};

export class ConfigError extends Error {}

/** Parse `env` with an object schema; throws ConfigError naming every bad variable. */
export function loadConfig<const E extends v.ObjectEntries>(
  entries: E,
  env: Record<string, string | undefined>,
): v.InferOutput<v.ObjectSchema<E, undefined>> {
  const result = v.safeParse(v.object(entries), env);
  if (result.success) return result.output;
  const lines = result.issues.map((i) => `  ${v.getDotPath(i) ?? "?"}: ${i.input === undefined ? "is required" : i.message}`);
  throw new ConfigError(`bad configuration:\n${lines.join("\n")}`);
}
