// Redis itself, for tests that look into it or flush it: straight to its port with its
// password (REDIS_URL, REDIS_PASSWORD), not through the cache's REST endpoint, which
// passes on only the commands the apps send (bridge/src/protocol.ts).
import { Redis } from "../../bridge/src/redis.ts";
import { RedisError, type Reply } from "../../bridge/src/resp.ts";
import { env } from "./stack.ts";

/** REDIS_URL with the password in it, or without (`password: ""`) to be refused. */
export function redisUrl(password = env("REDIS_PASSWORD")): string {
  const url = new URL(env("REDIS_URL"));
  url.password = password;
  return url.href;
}

const text = (r: Reply): unknown =>
  Array.isArray(r) ? r.map(text) : r instanceof Uint8Array ? Buffer.from(r).toString("utf8") : r;

/** A connection of its own (it reconnects after Redis restarts); one command at a time, replies as text. */
export function directRedis(url = redisUrl()) {
  const redis = new Redis({ url, timeoutMs: 2000 });
  const command = async <T = unknown>(...args: string[]): Promise<T> => {
    const reply = await redis.shared.send(args);
    if (reply instanceof RedisError) throw reply;
    return text(reply) as T;
  };
  return {
    command,
    get: (key: string) => command<string | null>("GET", key),
    del: (...keys: string[]) => command<number>("DEL", ...keys),
    exists: (key: string) => command<number>("EXISTS", key),
    keys: (pattern: string) => command<string[]>("KEYS", pattern),
    flushall: () => command<string>("FLUSHALL"),
    close: () => redis.close(),
  };
}
