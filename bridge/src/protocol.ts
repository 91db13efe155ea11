// What SRH accepts and answers, apart from HTTP routing: command bodies, which
// connection a command may use, and how replies become JSON.
import { Buffer } from "node:buffer";
import { RedisError, type Reply } from "./resp.ts";

export type Command = string[];

/** SRH's messages, verbatim, so clients and logs read the same whichever serves them. */
export const messages = {
  contentType: "Invalid content type. Expected application/json.",
  authHeader: "Missing/Invalid authorization header",
  token: "Invalid token",
  command: "Invalid command array. Expected a string array at root of the command and its arguments.",
  pipeline: "Invalid command array. Expected an array of string arrays at root.",
  notFound: "SRH: Endpoint not found. SRH might not support this feature yet.",
  connection: "Unable to connect to the Redis server",
  internal: "An error occurred internally",
  // Not SRH's (its JSON parser raises and its server answers a bare 400/500).
  json: "Invalid JSON body.",
} as const;

/** A command from JSON: a non-empty array of strings and numbers (Upstash clients send numbers as such). */
export function toCommand(value: unknown): Command | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const args: string[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const arg = value[i];
    if (typeof arg === "string") args[i] = arg;
    else if (typeof arg === "number" && Number.isFinite(arg)) args[i] = String(arg);
    else return undefined;
  }
  return args;
}

export function toPipeline(value: unknown): Command[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const commands: Command[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const command = toCommand(value[i]);
    if (!command) return undefined;
    commands[i] = command;
  }
  return commands;
}

// The commands the apps send (lib/src/data/cache.ts through @upstash/redis: plain keys with
// GET, SET and DEL, Redis's clock, PING for /readyz, and the Lua scripts by EVALSHA,
// or EVAL once after a restart of Redis): nothing else is passed on. So a holder of
// the token cannot reach CONFIG, SHUTDOWN, DEBUG, FLUSHALL, KEYS and the like, nor
// change the state of a connection that other requests share (SELECT, AUTH, MULTI…:
// transactions go through /multi-exec). Inside a script Redis itself refuses the
// administrative ones (CONFIG, SAVE, DEBUG, SHUTDOWN…).
export const ALLOWED_COMMANDS: ReadonlySet<string> = new Set([
  "GET",
  "SET",
  "DEL",
  "EVAL",
  "EVALSHA",
  "TIME",
  "PING",
]);

const ALLOWED_LIST = [...ALLOWED_COMMANDS].join(", ");

/** The reason a command is refused, as a Redis-style error; undefined when it may run. */
export function refusal(command: Command): string | undefined {
  const name = command[0]!.toUpperCase();
  if (ALLOWED_COMMANDS.has(name)) return undefined;
  const hint = name === "MULTI" || name === "EXEC" ? " Use /multi-exec for transactions." : "";
  return `ERR Command is not available: '${command[0]}'.${hint} This endpoint passes only ${ALLOWED_LIST}.`;
}

/**
 * A reply as JSON. With `Upstash-Encoding: base64` every string (bulk or simple, at
 * any depth) is base64 of its bytes; integers and nulls keep their type, arrays
 * their shape — as SRH's ResultEncoder does.
 */
export function toJson(reply: Reply, base64: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) {
    const out: unknown[] = new Array(reply.length);
    for (let i = 0; i < reply.length; i++) out[i] = toJson(reply[i]!, base64);
    return out;
  }
  if (reply instanceof RedisError) {
    return base64 ? Buffer.from(reply.message).toString("base64") : reply.message; // only nested (e.g. in a script's table)
  }
  return base64 ? (reply as Buffer).toString("base64") : (reply as Buffer).toString("utf8");
}

export type Entry = { result: unknown } | { error: string };

/** One element of a /pipeline or /multi-exec answer. */
export const toEntry = (reply: Reply, base64: boolean): Entry =>
  reply instanceof RedisError ? { error: reply.message } : { result: toJson(reply, base64) };
