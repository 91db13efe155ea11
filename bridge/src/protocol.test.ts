// The bridge's command allow-list: every command the apps send passes, and nothing
// else — above all no administrative command (CONFIG, SHUTDOWN, DEBUG, FLUSHALL…).
import { afterEach, describe, expect, test } from "bun:test";
import { createCache } from "@bazaar/lib/data/cache.ts";
import { catalogCache } from "@bazaar/lib/data/catalog-cache.ts";
import { ALLOWED_COMMANDS, refusal } from "./protocol.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/**
 * Every command the apps' cache client (lib/src/data/cache.ts through @upstash/redis) sends
 * for each thing the apps do with it, recorded from its HTTP requests. Scripts are
 * answered NOSCRIPT first, so the EVAL that follows is recorded too.
 */
async function commandsTheAppsSend(): Promise<string[][]> {
  const sent: string[][] = [];
  const answer = (command: string[]) => {
    const name = command[0]!.toUpperCase();
    if (name === "EVALSHA") return { error: "NOSCRIPT No matching script." };
    if (name === "TIME") return { result: ["1700000000", "250000"] };
    if (name === "PING") return { result: "PONG" };
    return { result: null };
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = await req.json() as string[] | string[][];
    const pipeline = Array.isArray(body[0]);
    const commands = (pipeline ? body : [body]) as string[][];
    sent.push(...commands.map((c) => c.map(String)));
    return Response.json(pipeline ? commands.map(answer) : answer(commands[0]!));
  }) as typeof fetch;

  const cache = createCache({
    UPSTASH_REDIS_REST_URL: "http://cache.invalid",
    UPSTASH_REDIS_REST_TOKEN: "t",
    CACHE_TTL_SECONDS: 300,
    CACHE_TIMEOUT_MS: 1000,
  }, { log: () => {} });
  const catalog = catalogCache(cache);
  const item = { id: 1, version: 2, json: "{}" };
  // The catalogue's scripts (api and admin-api), Redis's clock (the relay), the
  // orders' plain keys, the sessions' kept keys (admin-api), and /readyz. Only what
  // is sent counts here, not what the answers make of it.
  const uses: (() => Promise<unknown>)[] = [
    () => catalog.read(["tux"], [{ page: 1, per_page: 24, q: "" }]),
    () => catalog.fill({ gen: "1", token: "t" }, [{ stem: "tux", item }], []),
    () => catalog.purchased("tux", item, 1),
    () => catalog.clear(["tux"], 3),
    () => catalog.relay(1, [{ stem: "tux", ...item }], 3),
    () => catalog.dropAll(),
    () => catalog.time(),
    () => catalog.readOrder(1),
    () => catalog.fillOrder({ gen: "1" }, 1, "{}"),
    () => cache.kv.get("admin-session:x"),
    () => cache.kv.set("admin-session:x", "{}", 60),
    () => cache.kv.del("admin-session:x"),
    () => cache.status(),
  ];
  for (const use of uses) await use().catch(() => {});
  return sent;
}

describe("the commands the bridge passes on", () => {
  test("every command the apps send is allowed, and the list holds nothing else", async () => {
    const sent = await commandsTheAppsSend();
    const names = new Set(sent.map((c) => c[0]!.toUpperCase()));
    for (const command of sent) {
      expect({ command, refused: refusal(command) }).toEqual({ command, refused: undefined });
    }
    expect([...names].sort()).toEqual([...ALLOWED_COMMANDS].sort());
  });

  test("in any case, as Redis reads them", () => {
    for (const name of ["get", "Set", "evalsha", "PING"]) expect(refusal([name, "k"])).toBeUndefined();
  });

  test("administrative commands, and everything else, are refused with a Redis-style error naming the command", () => {
    for (
      const command of [
        ["CONFIG", "GET", "dir"],
        ["config", "set", "dir", "/tmp"],
        ["SAVE"],
        ["BGSAVE"],
        ["SHUTDOWN", "NOSAVE"],
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["DEBUG", "SLEEP", "0"],
        ["KEYS", "*"],
        ["SCAN", "0"],
        ["MONITOR"],
        ["CLIENT", "LIST"],
        ["SCRIPT", "FLUSH"],
        ["FUNCTION", "FLUSH"],
        ["ACL", "LIST"],
        ["MODULE", "LOAD", "/tmp/x.so"],
        ["REPLICAOF", "evil.example", "6379"],
        ["SLAVEOF", "evil.example", "6379"],
        ["MIGRATE", "evil.example", "6379", "k", "0", "1000"],
        ["SELECT", "1"],
        ["SWAPDB", "0", "1"],
        ["AUTH", "x"],
        ["HELLO", "3"],
        ["SUBSCRIBE", "c"],
        ["BLPOP", "q", "0"],
        ["INFO"],
        ["EXISTS", "k"],
        ["NOSUCHCOMMAND"],
      ]
    ) {
      const refused = refusal(command);
      expect(refused).toStartWith(`ERR Command is not available: '${command[0]}'.`);
      expect(refused).toContain("This endpoint passes only GET, SET, DEL, EVAL, EVALSHA, TIME, PING.");
    }
    expect(refusal(["MULTI"])).toContain("Use /multi-exec for transactions.");
  });
});
