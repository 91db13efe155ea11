// The bridge's configuration as SRH reads it (no Redis needed): env mode, file mode
// (SRH's tokens.json) and the port.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, PUBLISHED_MESSAGE, TOKEN68_MESSAGE } from "@bazaar/lib/config.ts";
import { srhTokens } from "@bazaar/lib/secrets/secrets.ts";
import { bridgeConfig, SRH_CONFIG_FILE } from "./config.ts";

const env = { SRH_TOKEN: "a-token-0123456789", SRH_CONNECTION_STRING: "redis://127.0.0.1:6390" };
const files = (content: Record<string, string>) => ({
  readFile: (file: string) => {
    if (file in content) return content[file]!;
    throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  },
});
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("no error");
};

describe("env mode (the default, which the local stack uses)", () => {
  test("one token from SRH_TOKEN to SRH_CONNECTION_STRING", () => {
    const config = bridgeConfig(env);
    expect(config.SRH_MODE).toBe("env");
    expect(config.tokens).toEqual([{
      token: "a-token-0123456789",
      connectionString: "redis://127.0.0.1:6390",
    }]);
    expect(bridgeConfig({ SRH_MODE: "env", SRH_TOKEN: "t" }).tokens).toEqual([{
      token: "t",
      connectionString: "redis://127.0.0.1:6379",
    }]);
  });

  test("SRH_TOKEN is required, and a published one refused", () => {
    expect(failure(() => bridgeConfig({}))).toContain("SRH_TOKEN: is required");
    expect(failure(() => bridgeConfig({ SRH_TOKEN: "cache-token-change-me" }))).toContain(
      `SRH_TOKEN: ${PUBLISHED_MESSAGE}`,
    );
    expect(failure(() => bridgeConfig({ ...env, SRH_CONNECTION_STRING: "http://x" }))).toContain(
      "SRH_CONNECTION_STRING: must be a redis:// or rediss:// URL",
    );
  });

  test("SRH_TOKEN_FILE works as for every variable", () => {
    expect(bridgeConfig({ SRH_TOKEN_FILE: "/t" }, files({ "/t": "from-a-file-123\n" })).tokens[0]!.token)
      .toBe("from-a-file-123");
  });

  test("a bad SRH_MODE is named", () => {
    expect(failure(() => bridgeConfig({ ...env, SRH_MODE: "redis" }))).toContain(
      "SRH_MODE: must be env or file",
    );
  });
});

describe("file mode: SRH's tokens.json", () => {
  const file = "/etc/srh/tokens.json";
  const load = (content: unknown) =>
    bridgeConfig(
      { SRH_MODE: "file", SRH_CONFIG_FILE: file },
      files({ [file]: typeof content === "string" ? content : JSON.stringify(content) }),
    );

  test("reads SRH's image path by default", () => {
    expect(SRH_CONFIG_FILE).toBe("/app/srh-config/tokens.json");
    const config = bridgeConfig(
      { SRH_MODE: "file" },
      files({ [SRH_CONFIG_FILE]: JSON.stringify(srhTokens("tok-0123456789", "redis://redis:6379")) }),
    );
    expect(config.tokens).toEqual([{ token: "tok-0123456789", connectionString: "redis://redis:6379" }]);
  });

  test("the file --init-secrets writes, and one with several tokens, each to its own Redis", () => {
    expect(load(srhTokens("tok-0123456789", "redis://redis:6379")).tokens).toEqual([{
      token: "tok-0123456789",
      connectionString: "redis://redis:6379",
    }]);
    expect(
      load({
        one: { srh_id: "a", connection_string: "redis://r1:6379", max_connections: 3 },
        two: { connection_string: "rediss://u:p@r2:6380/1" },
      }).tokens,
    ).toEqual([
      { token: "one", connectionString: "redis://r1:6379" },
      { token: "two", connectionString: "rediss://u:p@r2:6380/1" },
    ]);
  });

  test("SRH_TOKEN and SRH_CONNECTION_STRING are not needed (and not used)", () => {
    const config = bridgeConfig(
      { SRH_MODE: "file", SRH_CONFIG_FILE: file, ...env },
      files({ [file]: JSON.stringify(srhTokens("tok-x", "redis://r:1")) }),
    );
    expect(config.tokens).toEqual([{ token: "tok-x", connectionString: "redis://r:1" }]);
  });

  test("a missing, malformed or empty file, or a bad entry, stops start-up naming SRH_CONFIG_FILE and never the token", () => {
    expect(failure(() => bridgeConfig({ SRH_MODE: "file", SRH_CONFIG_FILE: "/nope" }, files({})))).toContain(
      "SRH_CONFIG_FILE: cannot read /nope (ENOENT)",
    );
    expect(failure(() => load('{"secret-token-1": '))).toBe(
      `bad configuration:\n  SRH_CONFIG_FILE: ${file}: is not valid JSON`,
    );
    expect(failure(() => load([]))).toContain("must be a JSON object");
    expect(failure(() => load({}))).toContain(`${file}: has no tokens`);
    const bad = failure(() =>
      load({ "secret-token-1": { srh_id: "x", connection_string: "http://r:1" }, "secret-token-2": {} })
    );
    expect(bad).toContain("entry 1 (srh_id x): connection_string must be a redis:// or rediss:// URL");
    expect(bad).toContain("entry 2: connection_string is required");
    expect(bad).not.toContain("secret-token");
    expect(failure(() => load(srhTokens("cache-token-change-me", "redis://r:1")))).toContain(
      `entry 1 (srh_id bazaar): the token ${PUBLISHED_MESSAGE}`,
    );
    // Every call with it would be a 400 ("Bearer <token>" malformed): refused at start.
    const spaced = failure(() => load(srhTokens("secret token 1", "redis://r:1")));
    expect(spaced).toContain(`entry 1 (srh_id bazaar): the token ${TOKEN68_MESSAGE}`);
    expect(spaced).not.toContain("secret token");
  });

  test("reads the real file system by default", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bridge-config-"));
    try {
      writeFileSync(
        path.join(dir, "tokens.json"),
        JSON.stringify(srhTokens("disk-token-123", "redis://127.0.0.1:1")),
      );
      expect(
        bridgeConfig({ SRH_MODE: "file", SRH_CONFIG_FILE: path.join(dir, "tokens.json") }).tokens[0]!.token,
      ).toBe("disk-token-123");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the port", () => {
  test("PORT (the local stack's) wins, else SRH_PORT, else SRH's 80", () => {
    expect(bridgeConfig({ ...env, PORT: "8079", SRH_PORT: "9000" }).PORT).toBe(8079);
    expect(bridgeConfig({ ...env, SRH_PORT: "9000" }).PORT).toBe(9000);
    expect(bridgeConfig(env).PORT).toBe(80);
    expect(failure(() => bridgeConfig({ ...env, SRH_PORT: "x" }))).toContain(
      "SRH_PORT: must be a whole number",
    );
  });
});
