// The bridge reads SRH's variables, so it can stand in for the
// hiett/serverless-redis-http image in compose as well as run in the local stack:
// SRH_MODE=env takes one token from SRH_TOKEN/SRH_CONNECTION_STRING; SRH_MODE=file
// reads SRH's tokens.json, any number of tokens, each to its own Redis.
import { readFileSync } from "node:fs";
import * as v from "valibot";
import {
  bearerToken,
  ConfigError,
  loadConfig,
  type LoadOptions,
  optionalPort,
  port,
  ServerEnv,
  text,
} from "@bazaar/lib/config.ts";

const redisUrl = () => v.regex(/^rediss?:\/\/[^\s]+$/, "must be a redis:// or rediss:// URL");

/** Where SRH's image reads its tokens in file mode. */
export const SRH_CONFIG_FILE = "/app/srh-config/tokens.json";

/** What every mode reads. */
export const BridgeEnv = {
  ...ServerEnv,
  /** The local stack sets PORT (8079); SRH's image listens on SRH_PORT, default 80. PORT wins. */
  PORT: optionalPort(),
  SRH_PORT: port(80),
  /**
   * SRH's default is "file"; ours is "env", which the local stack relies on (it sets
   * SRH_TOKEN and SRH_CONNECTION_STRING only). Compose sets SRH_MODE itself.
   */
  SRH_MODE: v.optional(v.picklist(["env", "file"], "must be env or file"), "env"),
  /** file mode: SRH's tokens.json (its path in SRH's image; settable for tests). */
  SRH_CONFIG_FILE: text(SRH_CONFIG_FILE),
};

/** env mode: one token (SRH's own names). */
export const BridgeTokenEnv = {
  SRH_TOKEN: bearerToken(1),
  SRH_CONNECTION_STRING: v.pipe(text("redis://127.0.0.1:6379"), redisUrl()),
};

export type TokenRoute = { token: string; connectionString: string };

export type BridgeConfig = {
  HOST: string;
  PORT: number;
  INSTANCE_NAME: string;
  SHUTDOWN_DRAIN_MS: number;
  SRH_MODE: "env" | "file";
  /** Each accepted token and the Redis it reaches. */
  tokens: TokenRoute[];
};

/** SRH's tokens.json entry; srh_id and max_connections are read but not needed here. */
const TokenEntry = v.object({
  srh_id: v.optional(v.string("must be a string")),
  connection_string: v.pipe(v.string("must be a string"), redisUrl()),
  max_connections: v.optional(v.number("must be a number")),
});

/**
 * SRH's tokens.json: `{"<token>": {"srh_id", "connection_string", "max_connections"}}`.
 * Messages name an entry by its place (and srh_id), never by its token.
 */
export function parseTokensFile(file: string, content: string): TokenRoute[] {
  const bad = (msg: string) => new ConfigError(`bad configuration:\n  SRH_CONFIG_FILE: ${file}: ${msg}`);
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    // Not the parser's message: it may quote part of a token.
    throw bad("is not valid JSON");
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw bad('must be a JSON object {"<token>": {"connection_string": …}}');
  }
  const entries = Object.entries(json);
  if (!entries.length) throw bad("has no tokens");
  const problems: string[] = [];
  const tokens: TokenRoute[] = [];
  entries.forEach(([token, raw], i) => {
    const id = raw && typeof raw === "object" && typeof (raw as { srh_id?: unknown }).srh_id === "string"
      ? ` (srh_id ${(raw as { srh_id: string }).srh_id})`
      : "";
    const where = `entry ${i + 1}${id}`;
    const t = v.safeParse(bearerToken(1), token);
    if (!t.success) problems.push(`${where}: the token ${t.issues[0].message}`);
    const e = v.safeParse(TokenEntry, raw);
    if (!e.success) {
      for (const issue of e.issues) {
        problems.push(
          `${where}: ${v.getDotPath(issue) ?? "the entry"} ${
            issue.input === undefined ? "is required" : issue.message
          }`,
        );
      }
    } else tokens.push({ token, connectionString: e.output.connection_string });
  });
  if (problems.length) throw bad(problems.join("; "));
  return tokens;
}

export function bridgeConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): BridgeConfig {
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, "utf8"));
  if (env.SRH_MODE === "file") {
    const { PORT, SRH_PORT, SRH_CONFIG_FILE: file, ...rest } = loadConfig(BridgeEnv, env, options);
    let content: string;
    try {
      content = readFile(file);
    } catch (err) {
      throw new ConfigError(
        `bad configuration:\n  SRH_CONFIG_FILE: cannot read ${file} (${
          (err as { code?: string }).code ?? String(err)
        })`,
      );
    }
    return { ...rest, PORT: PORT ?? SRH_PORT, tokens: parseTokensFile(file, content) };
  }
  // Also when SRH_MODE is bad: loadConfig names it, with anything else amiss.
  const { PORT, SRH_PORT, SRH_CONFIG_FILE: _, SRH_TOKEN, SRH_CONNECTION_STRING, ...rest } = loadConfig(
    { ...BridgeEnv, ...BridgeTokenEnv },
    env,
    options,
  );
  return {
    ...rest,
    PORT: PORT ?? SRH_PORT,
    tokens: [{ token: SRH_TOKEN, connectionString: SRH_CONNECTION_STRING }],
  };
}
