// Cache-aside over @upstash/redis. Layout per prefix P (e.g. "catalog"):
//   P:gen        generation counter, bumped by every clear
//   P:<gen>:<k>  cached values of that generation
//   P:keys       set of the value keys filled, so a clear deletes exactly those
// The generation closes the classic race of cache-aside: a read that loaded the
// database before a write committed can only fill a generation nobody reads any
// more, so once a write is acknowledged no read returns the value from before it.
// A clear costs O(keys under the prefix), never a SCAN of the whole keyspace.
// Any cache failure is logged and the request goes to the database; while the cache
// is down it is skipped, and when it comes back every known prefix is cleared before
// it is trusted again (writes made meanwhile could not clear it).
import { Redis } from "@upstash/redis";
import type * as v from "valibot";
import { safeParse } from "valibot";

export type CacheConfig = {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CACHE_TTL_SECONDS: number;
  CACHE_TIMEOUT_MS: number;
};

export type CacheStatus = "up" | "down" | "off";

export type Cache = {
  /** The value under prefix/key from the cache, else from load() (then cached). */
  read<S extends v.GenericSchema>(prefix: string, key: string, schema: S, load: () => Promise<v.InferOutput<S>>): Promise<v.InferOutput<S>>;
  /** Invalidate every key under the prefixes; resolves once Redis has done it (or is known down). */
  clear(...prefixes: string[]): Promise<void>;
  status(): Promise<CacheStatus>;
  /** Turn caching off or on at run time (for measuring the cache's effect). */
  setEnabled(on: boolean): void;
  close(): void;
};

const READ = `local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. ':' .. gen .. ':' .. ARGV[2])}`;

const FILL = `if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[2] then return 0 end
local k = ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3]
redis.call('SET', k, ARGV[4], 'EX', ARGV[5])
redis.call('SADD', ARGV[1] .. ':keys', k)
redis.call('EXPIRE', ARGV[1] .. ':keys', ARGV[5])
return 1`;

// Deletes in chunks (Lua's unpack has a limit) and never sends UNLINK with no keys.
const CLEAR = `for _, p in ipairs(ARGV) do
  redis.call('INCR', p .. ':gen')
  local keys = redis.call('SMEMBERS', p .. ':keys')
  for i = 1, #keys, 1000 do
    redis.call('UNLINK', unpack(keys, i, math.min(i + 999, #keys)))
  end
  if #keys > 0 then redis.call('UNLINK', p .. ':keys') end
end
return #ARGV`;

const RETRY_MS = 500;

export function createCache(config: CacheConfig, options: { prefixes: string[]; log?: (msg: string, err: unknown) => void }): Cache {
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: false,
    keepAlive: true,
    signal: () => AbortSignal.timeout(config.CACHE_TIMEOUT_MS),
  });
  const ttl = String(config.CACHE_TTL_SECONDS);
  const log = options.log ?? ((msg, err) => console.error(JSON.stringify({ level: "warn", msg, error: String(err) })));

  let enabled = true;
  let downUntil = 0; // while the cache is known down, skip it
  let dirty = false; // a clear may have been missed: clear everything before trusting the cache
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const failed = (what: string, err: unknown) => {
    if (Date.now() >= downUntil) log(`cache ${what} failed; serving from the database`, err);
    downUntil = Date.now() + RETRY_MS;
    dirty = true;
    scheduleRecovery();
  };

  const clearNow = async (prefixes: string[]) => {
    await redis.eval(CLEAR, [], prefixes);
  };

  // Writes that could not clear the cache are made good as soon as it is back, even
  // if no request comes to notice it.
  const scheduleRecovery = () => {
    if (retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void recover(); // on failure it schedules the next try
    }, RETRY_MS);
    (retryTimer as { unref?: () => void }).unref?.();
  };

  const recover = async (): Promise<boolean> => {
    if (!dirty) return true;
    try {
      await clearNow(options.prefixes);
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
    async read(prefix, key, schema, load) {
      let gen: string | undefined;
      if (await usable()) {
        try {
          const [g, cached] = (await redis.eval(READ, [`${prefix}:gen`], [prefix, key])) as [string, string | null];
          gen = g;
          if (cached !== null && cached !== undefined) {
            const parsed = safeParse(schema, JSON.parse(cached));
            if (parsed.success) return parsed.output;
          }
        } catch (err) {
          failed("read", err);
        }
      }
      const value = await load();
      if (gen !== undefined) {
        // A failed fill costs the cache, never the request.
        try {
          await redis.eval(FILL, [`${prefix}:gen`], [prefix, gen, key, JSON.stringify(value ?? null), ttl]);
        } catch (err) {
          failed("fill", err);
        }
      }
      return value;
    },

    async clear(...prefixes) {
      if (prefixes.length === 0) return;
      try {
        await clearNow(prefixes);
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
      if (on) dirty = true; // writes made while off cleared nothing we can rely on
    },

    close() {
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}
