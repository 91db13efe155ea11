// The apps' Redis, through @upstash/redis and an Upstash-compatible REST endpoint
// (SRH in compose, bridge/ locally). What is kept there, and why it is never stale,
// is the business of the catalogue and the orders (catalog-cache.ts); this module is
// the connection: Lua scripts batched per turn of the event loop, Redis's clock,
// plain keys, and what happens when Redis is away.
//
// Any failure is logged once ("using the database until it is back") and, for
// RETRY_MS, calls fail at once instead of each waiting for the timeout; the callers
// fall back to MySQL. Nothing here decides what is current: the catalogue's freshness
// mark does (docs/internals.md, The cache).
import { Redis } from "@upstash/redis";
import { createHash } from "node:crypto";
import { setImmediate } from "node:timers";
import { describeError, jsonLines, type Log } from "../log.ts";

export type CacheConfig = {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CACHE_TTL_SECONDS: number;
  CACHE_TIMEOUT_MS: number;
  /** Off: every read goes to the database (default on). */
  CACHE_ENABLED?: boolean;
};

export type CacheStatus = "up" | "down" | "off";

/** A call made while Redis is known to be away (or the cache is off): not sent. */
export class CacheUnavailable extends Error {
  override name = "CacheUnavailable";
}

export type Cache = {
  /** How long an entry lives (CACHE_TTL_SECONDS). */
  ttlSeconds: number;
  /** Whether reads may use the cache (CACHE_ENABLED, or setEnabled). */
  enabled(): boolean;
  /** Turn caching off or on at run time (to measure what the cache is worth). */
  setEnabled(on: boolean): void;
  /**
   * A Lua script, called as script(args). Every call made in one turn of the event
   * loop goes to Redis as one pipeline (one HTTP request). Rejects when Redis fails,
   * or at once with CacheUnavailable while it is known away.
   */
  script<T>(source: string): (args: string[]) => Promise<T>;
  /** Redis's own clock, in milliseconds. */
  time(): Promise<number>;
  /** Set a plain key for the TTL (an order's entry: catalog-cache.ts); a failure is logged, never thrown. */
  set(key: string, value: string): Promise<void>;
  /** Plain keys that must not be skipped (admin-api's sessions): on or off alike; a failure throws. */
  kv: KeyValue;
  status(): Promise<CacheStatus>;
  close(): void;
};

export type KeyValue = {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  del(key: string): Promise<void>;
};

/** After a failure, how long calls are not sent (then the next one tries again). */
const RETRY_MS = 250;

type Waiting = {
  script: string;
  sha: string;
  args: string[];
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * The scripts, with every call made in the same turn of the event loop sent to Redis
 * as one pipeline of EVALSHAs: one HTTP request for many calls under load, and no
 * wait when idle (the turn ends at once). EVALSHA sends a 40-character digest instead
 * of the script; after a Redis restart (NOSCRIPT) the call is made once more with
 * EVAL, which loads the script again.
 */
function scripts(redis: Redis) {
  let queue: Waiting[] = [];
  const settle = (w: Waiting, reply: { result?: unknown; error?: string }) => {
    if (reply.error === undefined) w.resolve(reply.result);
    else if (/noscript/i.test(reply.error)) redis.eval(w.script, [], w.args).then(w.resolve, w.reject);
    else w.reject(new Error(reply.error));
  };
  const flush = async () => {
    const batch = queue;
    queue = [];
    const pipeline = redis.pipeline();
    for (const w of batch) pipeline.evalsha(w.sha, [], w.args);
    try {
      const replies = await pipeline.exec<unknown[]>({ keepErrors: true });
      batch.forEach((w, i) => settle(w, replies[i] as { result?: unknown; error?: string }));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };
  return <T>(script: string) => {
    const sha = createHash("sha1").update(script).digest("hex");
    return (args: string[]) =>
      new Promise<T>((resolve, reject) => {
        queue.push({ script, sha, args, resolve: resolve as (r: unknown) => void, reject });
        if (queue.length === 1) setImmediate(flush);
      });
  };
}

export function createCache(config: CacheConfig, options: { log?: Log } = {}): Cache {
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    automaticDeserialization: false,
    // Every value is UTF-8 text (JSON, names, URI-encoded keys): no base64 both ways.
    responseEncoding: false,
    enableTelemetry: false,
    retry: false,
    keepAlive: true,
    // The scripts are batched per turn (see scripts()); the rest go out as they come.
    enableAutoPipelining: false,
    signal: () => AbortSignal.timeout(config.CACHE_TIMEOUT_MS),
  });
  const script = scripts(redis);
  const log = options.log ?? jsonLines;
  let enabled = config.CACHE_ENABLED ?? true;
  let downUntil = 0;
  let healthy = true; // logs say when Redis goes and comes back, not every failure between

  /** Runs `call` unless Redis is known away; a failure marks it away for RETRY_MS. */
  const guarded = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    if (performance.now() < downUntil) throw new CacheUnavailable("the cache is away");
    try {
      const result = await call();
      if (!healthy) log({ level: "info", msg: "cache is back" });
      healthy = true;
      return result;
    } catch (err) {
      if (healthy) {
        log({
          level: "warn",
          msg: `cache ${what} failed; using the database until it is back`,
          error: describeError(err),
        });
      }
      healthy = false;
      downUntil = performance.now() + RETRY_MS;
      throw err;
    }
  };

  return {
    ttlSeconds: config.CACHE_TTL_SECONDS,
    enabled: () => enabled,
    setEnabled(on) {
      enabled = on;
    },
    script<T>(source: string) {
      const run = script<T>(source);
      return (args: string[]) => guarded("call", () => run(args));
    },
    async time() {
      const [seconds, micros] = await guarded("clock", () => redis.time());
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    },
    async set(key, value) {
      if (!enabled) return;
      try {
        await guarded("fill", () => redis.set(key, value, { ex: config.CACHE_TTL_SECONDS }));
      } catch {
        // Costs the cache, never the request.
      }
    },
    kv: {
      get: (key) => redis.get<string>(key),
      set: async (key, value, ttlSeconds) =>
        void (await redis.set(key, value, { ex: Math.max(1, Math.ceil(ttlSeconds)) })),
      del: async (key) => void (await redis.del(key)),
    },
    async status() {
      if (!enabled) return "off";
      try {
        await redis.ping();
        return "up";
      } catch {
        return "down";
      }
    },
    close() {},
  };
}
