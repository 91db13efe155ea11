// Clearing every key under a prefix, two ways, measured against the stack's Redis
// through its REST endpoint (the same @upstash/redis client the apps use), on keys of
// the bench's own: (a) one Lua script that SCANs for the prefix and UNLINKs what it
// finds, (b) one INCR of a generation the readers compare their entries with (what
// `catalog:gen` does for the whole catalogue), and (c) deleting one item's two keys
// (what clearing `catalog:item:<stem>:` costs: its keys are known, no scan).
import { Redis } from "@upstash/redis";
import type { Stack } from "../../local/src/index.ts";

const PREFIX = "benchclear:";
/** Keys under another prefix, to show what a SCAN costs when the prefix holds nothing. */
const OTHER = "benchother:";
/** Each clear is timed this many times; the median is reported. */
const TIMES = 3;
/** Keys a fill script sets per call (one call must not hold Redis long). */
const FILL_CHUNK = 10_000;

export type PrefixClear = {
  /** Keys under the prefix. */
  keys: number;
  /** Keys elsewhere in Redis the SCAN had to walk past (besides the store's own). */
  others: number;
  /** Each clear's median round trip through the REST endpoint, and its time inside Redis, ms. */
  scan: { ms: number; redisMs: number; deleted: number };
  generation: { ms: number; redisMs: number };
  item: { ms: number; redisMs: number };
};

// Every script returns its time inside Redis (µs, from TIME) beside its result.
const ELAPSED = `local function elapsed(t0)
  local t1 = redis.call('TIME')
  return (t1[1] - t0[1]) * 1000000 + (t1[2] - t0[2])
end`;

/** ARGV: prefix, from, to: keys <prefix>item:<i>:v set to an entry-sized value. */
const FILL = `local v = string.rep('x', 120)
for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do redis.call('SET', ARGV[1] .. 'item:' .. i .. ':v', v) end
return 1`;

/** ARGV: prefix (no glob characters). Every key under it found by SCAN and UNLINKed, in one script. */
const SCAN_UNLINK = `${ELAPSED}
local t0 = redis.call('TIME')
local cursor, n = '0', 0
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1] .. '*', 'COUNT', 1000)
  cursor = r[1]
  local keys = r[2]
  for i = 1, #keys, 500 do redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys))) end
  n = n + #keys
until cursor == '0'
return {n, elapsed(t0)}`;

/** ARGV: prefix: its generation raised; entries of an older one are no longer read (they expire). */
const BUMP = `${ELAPSED}
local t0 = redis.call('TIME')
redis.call('INCR', ARGV[1] .. 'gen')
return {0, elapsed(t0)}`;

/** ARGV: prefix, stem: one item's two keys deleted, as the store's CLEAR script does. */
const DELETE_ITEM = `${ELAPSED}
local t0 = redis.call('TIME')
redis.call('DEL', ARGV[1] .. 'item:' .. ARGV[2] .. ':v', ARGV[1] .. 'item:' .. ARGV[2] .. ':lease')
return {0, elapsed(t0)}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms3 = (x: number) => Math.round(x * 1000) / 1000;

export async function measurePrefixClears(
  stack: Stack,
  counts = [0, 10_000, 100_000],
): Promise<PrefixClear[]> {
  const redis = new Redis({
    url: stack.env.UPSTASH_REDIS_REST_URL!,
    token: stack.env.UPSTASH_REDIS_REST_TOKEN!,
    automaticDeserialization: false,
  });
  const fill = async (prefix: string, n: number) => {
    for (let from = 1; from <= n; from += FILL_CHUNK) {
      await redis.eval(FILL, [], [prefix, String(from), String(Math.min(n, from + FILL_CHUNK - 1))]);
    }
  };
  /** One script call: its round trip and its own time inside Redis. */
  const timed = async (script: string, args: string[]) => {
    const t0 = performance.now();
    const [n, us] = (await redis.eval(script, [], args)) as [number, number];
    return { ms: performance.now() - t0, redisMs: us / 1000, n: Number(n) };
  };
  const summary = (xs: { ms: number; redisMs: number }[]) => ({
    ms: ms3(median(xs.map((x) => x.ms))),
    redisMs: ms3(median(xs.map((x) => x.redisMs))),
  });

  const one = async (keys: number, others: number): Promise<PrefixClear> => {
    await fill(OTHER, others);
    const scans = [];
    for (let i = 0; i < TIMES; i++) {
      await fill(PREFIX, keys);
      scans.push(await timed(SCAN_UNLINK, [PREFIX]));
    }
    await fill(PREFIX, keys);
    const bumps = [];
    const items = [];
    for (let i = 0; i < TIMES; i++) {
      bumps.push(await timed(BUMP, [PREFIX]));
      items.push(await timed(DELETE_ITEM, [PREFIX, String(i + 1)]));
    }
    await timed(SCAN_UNLINK, [PREFIX]);
    await timed(SCAN_UNLINK, [OTHER]);
    return {
      keys,
      others,
      scan: { ...summary(scans), deleted: scans.at(-1)!.n },
      generation: summary(bumps),
      item: summary(items),
    };
  };

  const out: PrefixClear[] = [];
  try {
    for (const keys of counts) out.push(await one(keys, 0));
    // SCAN walks the whole keyspace, not the prefix: an empty prefix among many keys.
    const most = Math.max(...counts);
    if (most > 0) out.push(await one(0, most));
  } finally {
    await redis.eval(SCAN_UNLINK, [], [PREFIX]);
    await redis.eval(SCAN_UNLINK, [], [OTHER]);
    await redis.del(`${PREFIX}gen`);
  }
  return out;
}
