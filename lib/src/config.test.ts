import { expect, test } from "bun:test";
import { ConfigError, DbEnv, loadConfig, port, secret } from "./config.ts";

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
