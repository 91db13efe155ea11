// Cache-aside over @upstash/redis.
//
// What the apps keep here cannot be stale: orders, by number (an order never
// changes). The catalogue is revalidated against the database's versions instead
// (docs/internals.md, Versions), so no write clears anything, and a writer that
// cannot reach the cache hides nothing. The epochs and generations below still hold
// for any entry that could change.
//
// An entry is named "<namespace>:<rest>", e.g. "catalog:key:tux". In Redis:
//   <ns>:epoch                 bumped to drop the whole namespace at once
//   <ns>:gen:<rest>            the entry's generation, bumped by every clear of it
//   <ns>:v:<epoch>:<gen>:<rest>  the cached value of that epoch and generation
// Generations close the classic race of cache-aside: a read that loaded the
// database before a write committed fills only if the generation it read is still
// current, so once a write is acknowledged no read returns the value from before it.
// A clear deletes exactly the entry's live value key (never an empty DEL) and costs
// the same however many other keys Redis holds: no SCAN.
// Any cache failure is logged and the request goes to the database. While the cache
// is down it is skipped; when it is back, every namespace is dropped (one INCR each)
// before it is trusted again, since writes made meanwhile could not clear it.
import { Redis } from "@upstash/redis";
import { createHash } from "node:crypto";
import { setImmediate } from "node:timers";
import * as v from "valibot";
import { checkedText } from "./checked-text.ts";
import { jsonLines, type Log } from "./log.ts";

export type CacheConfig = {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CACHE_TTL_SECONDS: number;
  CACHE_TIMEOUT_MS: number;
  /** Off: every read goes to the database (default on). */
  CACHE_ENABLED?: boolean;
};

export type CacheStatus = "up" | "down" | "off";

export type ReadOptions = {
  /** Cache a null from load() too (a known miss); off where a null can turn real unannounced. */
  cacheNull?: boolean;
};

export type Cache = {
  /** The entry from the cache, else from load() (then cached). */
  read<S extends v.GenericSchema>(
    entry: string,
    schema: S,
    load: () => Promise<v.InferOutput<S>>,
    options?: ReadOptions,
  ): Promise<v.InferOutput<S>>;
  /** Invalidate these entries; resolves once Redis has done it, or the cache is known down. */
  clear(...entries: string[]): Promise<void>;
  /** Invalidate every entry of a namespace. */
  clearNamespace(namespace: string): Promise<void>;
  status(): Promise<CacheStatus>;
  /** Turn caching off or on at run time (to measure what the cache is worth). */
  setEnabled(on: boolean): void;
  /** Plain keys beside the entries (admin-api's sessions), on or off alike; a failure throws. */
  kv: KeyValue;
  close(): void;
};

export type KeyValue = {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  del(key: string): Promise<void>;
};

const READ = `local e = redis.call('GET', KEYS[1]) or '0'
local g = redis.call('GET', KEYS[2]) or '0'
return {e, g, redis.call('GET', ARGV[1] .. ':v:' .. e .. ':' .. g .. ':' .. ARGV[2])}`;

// Fills only the current epoch and generation; the generation key lives longer than
// any value under it, so when it expires no value of it is left to resurface.
const FILL = `if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[3] then return 0 end
local g = redis.call('GET', KEYS[2])
if (g or '0') ~= ARGV[4] then return 0 end
if g then redis.call('EXPIRE', KEYS[2], ARGV[7]) else redis.call('SET', KEYS[2], '0', 'EX', ARGV[7]) end
redis.call('SET', ARGV[1] .. ':v:' .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[2], ARGV[5], 'EX', ARGV[6])
return 1`;

const CLEAR = `local ns, ttl = ARGV[1], ARGV[2]
local e = redis.call('GET', ns .. ':epoch') or '0'
for i = 3, #ARGV do
  local gk = ns .. ':gen:' .. ARGV[i]
  local g = redis.call('GET', gk) or '0'
  redis.call('UNLINK', ns .. ':v:' .. e .. ':' .. g .. ':' .. ARGV[i])
  redis.call('INCR', gk)
  redis.call('EXPIRE', gk, ttl)
end
return #ARGV - 2`;

const RETRY_MS = 250;

type Waiting = {
  script: string;
  sha: string;
  keys: string[];
  args: string[];
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * The cache's scripts, with every call made in the same turn of the event loop sent
 * to Redis as one pipeline of EVALSHAs: one HTTP request to the REST endpoint for
 * many reads and clears under load, and no wait at all when idle (the turn ends at
 * once). A call is only ever sent after it was made, and a clear resolves only once
 * Redis has run it, so every rule of the cache holds as with a request per call.
 * EVALSHA sends a 40-character digest instead of the script; after a Redis restart
 * (NOSCRIPT) the call is made once more with EVAL, which loads the script again.
 */
function scripts(redis: Redis) {
  let queue: Waiting[] = [];
  const settle = (w: Waiting, reply: { result?: unknown; error?: string }) => {
    if (reply.error === undefined) w.resolve(reply.result);
    else if (/noscript/i.test(reply.error)) redis.eval(w.script, w.keys, w.args).then(w.resolve, w.reject);
    else w.reject(new Error(reply.error));
  };
  const flush = async () => {
    const batch = queue;
    queue = [];
    const pipeline = redis.pipeline();
    for (const w of batch) pipeline.evalsha(w.sha, w.keys, w.args);
    try {
      const replies = await pipeline.exec<unknown[]>({ keepErrors: true });
      batch.forEach((w, i) => settle(w, replies[i] as { result?: unknown; error?: string }));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };
  return <T>(script: string) => {
    const sha = createHash("sha1").update(script).digest("hex");
    return (keys: string[], args: string[]) =>
      new Promise<T>((resolve, reject) => {
        queue.push({ script, sha, keys, args, resolve: resolve as (r: unknown) => void, reject });
        if (queue.length === 1) setImmediate(flush);
      });
  };
}

/** "catalog:key:tux" → ["catalog", "key:tux"] */
const split = (entry: string): [string, string] => {
  const at = entry.indexOf(":");
  if (at <= 0 || at === entry.length - 1) throw new Error(`cache entry needs a namespace: ${entry}`);
  return [entry.slice(0, at), entry.slice(at + 1)];
};

export function createCache(
  config: CacheConfig,
  options: { namespaces: string[]; log?: Log },
): Cache {
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: false,
    keepAlive: true,
    // The scripts are batched per turn (see scripts()); the rest go out as they come.
    enableAutoPipelining: false,
    signal: () => AbortSignal.timeout(config.CACHE_TIMEOUT_MS),
  });
  const script = scripts(redis);
  const readScript = script<[string, string, string | null]>(READ);
  const fillScript = script<number>(FILL);
  const clearScript = script<number>(CLEAR);
  const ttl = String(config.CACHE_TTL_SECONDS);
  const genTtl = String(config.CACHE_TTL_SECONDS * 2 + 60);
  const log = options.log ?? jsonLines;

  let enabled = config.CACHE_ENABLED ?? true;
  let downUntil = 0; // while the cache is known down, skip it
  let dirty = false; // a clear may have been missed: drop everything before trusting the cache
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  let healthy = true; // logs say when the cache goes and comes back, not every miss between
  const failed = (what: string, err: unknown) => {
    if (healthy) {
      log({
        level: "warn",
        msg: `cache ${what} failed; using the database until it is back`,
        error: String(err),
      });
    }
    healthy = false;
    downUntil = Date.now() + RETRY_MS;
    dirty = true;
    scheduleRecovery();
  };

  const dropNamespaces = async (namespaces: string[]) => {
    const pipeline = redis.pipeline();
    for (const ns of namespaces) pipeline.incr(`${ns}:epoch`);
    await pipeline.exec();
  };

  // Writes that could not clear the cache are made good as soon as it is back,
  // even if no request comes along to notice.
  const scheduleRecovery = () => {
    if (retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void recover(); // a failure schedules the next try
    }, RETRY_MS);
    (retryTimer as { unref?: () => void }).unref?.();
  };

  const recover = async (): Promise<boolean> => {
    if (!dirty) return true;
    try {
      await dropNamespaces(options.namespaces);
      if (!healthy) {
        log({ level: "info", msg: "cache is back; dropped what it held from before" });
      }
      healthy = true;
      dirty = false;
      downUntil = 0;
      return true;
    } catch (err) {
      failed("recovery", err);
      return false;
    }
  };

  const usable = async () => enabled && Date.now() >= downUntil && (await recover());

  return {
    async read(entry, schema, load, { cacheNull = true } = {}) {
      const [ns, rest] = split(entry);
      let seen: [string, string] | undefined;
      if (await usable()) {
        try {
          const [e, g, cached] = await readScript([`${ns}:epoch`, `${ns}:gen:${rest}`], [ns, rest]);
          seen = [e, g];
          if (cached !== null && cached !== undefined) {
            // JSON.stringify(null) is "null": a known miss comes back as null, checked like any value.
            const value = checkedText(schema, cached);
            if (value !== undefined) return value;
          }
        } catch (err) {
          failed("read", err);
        }
      }
      const value = await load();
      if (seen && (value !== null || cacheNull)) {
        try {
          await fillScript([`${ns}:epoch`, `${ns}:gen:${rest}`], [
            ns,
            rest,
            seen[0],
            seen[1],
            JSON.stringify(value),
            ttl,
            genTtl,
          ]);
        } catch (err) {
          failed("fill", err); // costs the cache, never the request
        }
      }
      return value;
    },

    async clear(...entries) {
      const byNamespace = new Map<string, string[]>();
      for (const entry of entries) {
        const [ns, rest] = split(entry);
        byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), rest]);
      }
      try {
        await Promise.all([...byNamespace].map(([ns, rests]) => clearScript([], [ns, genTtl, ...rests])));
      } catch (err) {
        failed("clear", err);
      }
    },

    async clearNamespace(namespace) {
      try {
        await dropNamespaces([namespace]);
      } catch (err) {
        failed("clear", err);
      }
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

    setEnabled(on) {
      enabled = on;
    },

    kv: {
      get: (key) => redis.get<string>(key),
      set: async (key, value, ttlSeconds) =>
        void (await redis.set(key, value, { ex: Math.max(1, Math.ceil(ttlSeconds)) })),
      del: async (key) => void (await redis.del(key)),
    },

    close() {
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}
