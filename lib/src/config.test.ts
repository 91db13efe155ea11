import { expect, test } from "bun:test";
import { CacheEnv, ConfigError, DbEnv, loadConfig, port, secret } from "./config.ts";

const entries = { PORT: port(5003), ...DbEnv, TOKEN: secret() };
const good = { DB_USER: "u", DB_PASSWORD: "p", TOKEN: "12345678" };

test("defaults fill what is not set and numbers are parsed", () => {
  const config = loadConfig(entries, good);
  expect(config.PORT).toBe(5003);
  expect(config.DB_PORT).toBe(3306);
  expect(config.DB_POOL_SIZE).toBe(16);
  expect(loadConfig(entries, { ...good, PORT: "8080" }).PORT).toBe(8080);
});

test("a missing or bad variable stops start-up with a message naming it", () => {
  expect(() => loadConfig(entries, { DB_PASSWORD: "p", TOKEN: "12345678" })).toThrow(/DB_USER: is required/);
  expect(() => loadConfig(entries, { ...good, PORT: "http" })).toThrow(/PORT: must be a whole number/);
  expect(() => loadConfig(entries, { ...good, PORT: "70000" })).toThrow(/PORT: must be at most 65535/);
  expect(() => loadConfig(entries, { ...good, TOKEN: "short" })).toThrow(ConfigError);
});

test("CACHE_ENABLED is on unless set to false or 0", () => {
  const cacheEntries = { ...CacheEnv };
  const base = { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079", UPSTASH_REDIS_REST_TOKEN: "t" };
  expect(loadConfig(cacheEntries, base).CACHE_ENABLED).toBe(true);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "false" }).CACHE_ENABLED).toBe(false);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "0" }).CACHE_ENABLED).toBe(false);
  expect(loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "true" }).CACHE_ENABLED).toBe(true);
  expect(() => loadConfig(cacheEntries, { ...base, CACHE_ENABLED: "maybe" })).toThrow(/CACHE_ENABLED: must be true or false/);
});
