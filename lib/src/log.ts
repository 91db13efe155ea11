// One structured JSON line per request, carrying the request id HAProxy assigns
// (X-Request-Id; kept when the app trusts it, else the app makes one).
import type { Context, MiddlewareHandler } from "hono";
import type { RequestIdVariables } from "hono/request-id";

export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Hono's `Env` of every app (not its environment variables: those are the `…Env` of
 * config.ts). What every app keeps per request: the request id (set by withRequestId), and the
 * id the client sent when it was not taken as the request's (only for the log line).
 */
export type HonoEnv = { Variables: RequestIdVariables & { clientRequestId?: string } };

/** Where an app's log entries go: one JSON line each. Tests pass a quiet one. */
export type Log = (entry: Record<string, unknown>) => void;

/** Errors to stderr, everything else to stdout. */
export const jsonLines: Log = (entry) =>
  (entry.level === "error" ? console.error : console.log)(JSON.stringify(entry));

// What hono/request-id keeps ([\w\-=]), plus ':' and '.': nothing that could break a
// log line. Anything else, or anything longer, is replaced and not logged.
const FORWARDED_ID = /^[\w\-=:.]{1,128}$/;

/** Whether an incoming id is this request's: the APIs trust their callers', web only the proxy's. */
export type TrustRequestId = (id: string, c: Context) => boolean;

/**
 * Sets c.get("requestId") and the X-Request-Id response header: the incoming id when
 * it is well-formed and `trust` accepts it, else a new UUID. An id not trusted is
 * kept as "clientRequestId", only for the log line. (hono/request-id keeps every
 * well-formed id, and web must be able to refuse one: lib/src/request-id.ts.)
 */
export const withRequestId =
  (trust: TrustRequestId = () => true): MiddlewareHandler<HonoEnv> => async (c, next) => {
    const given = c.req.header(REQUEST_ID_HEADER);
    let id: string;
    if (given !== undefined && FORWARDED_ID.test(given)) {
      if (trust(given, c)) id = given;
      else {
        id = crypto.randomUUID();
        c.set("clientRequestId", given);
      }
    } else id = crypto.randomUUID();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
  };

export function logRequests(
  service: string,
  log: Log = jsonLines,
  /** Requests not logged once answered (the web servers' grant renewals, several a second each, when they succeed). */
  quiet: (c: Context<HonoEnv>) => boolean = () => false,
): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    if (c.req.path === "/healthz" || c.req.path === "/readyz" || quiet(c)) return;
    log({
      time: new Date().toISOString(),
      service,
      request_id: c.get("requestId"),
      // An id the client sent that was not taken as the request's (web: not the proxy's).
      client_request_id: c.get("clientRequestId"),
      // The client's address chain as HAProxy passed it on (absent on direct calls).
      forwarded_for: c.req.header("x-forwarded-for"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
    });
  };
}

// What a message may hold beyond its first words: @upstash/redis appends the whole
// command (", command was: ["set","admin-session:…","{…the session's CSRF token…}"]"),
// Redis quotes the arguments of a command it refuses ("…, with args beginning with:
// 'a' 'b'"), the client quotes an answer it could not read. Cut there.
const DATA_FOLLOWS = [", command was:", "with args beginning with:", "Unable to parse response body:"];
// Quoted runs carry values: mysql2's "Duplicate entry 'x'" and "near '…'", JSON.parse's
// "Unexpected identifier "x"", Redis's 'arg'. Replaced.
const QUOTED = /'[^']*'|"[^"]*"|`[^`]*`/g;

/**
 * An error as it may be logged: never the data it carries. A database or system error
 * (mysql2's carry the statement, with its values, in `sql` and often in the message)
 * is its name and code; any other is its name and message, cut where a command or
 * answer follows and with every quoted run left out; its cause likewise.
 * @example
 * log({ level: "warn", msg: "cache call failed", error: describeError(err) });
 */
export function describeError(err: unknown, depth = 0): string {
  if (typeof err === "string") return redact(err); // a cause given as text (the bridge's)
  if (err === null || typeof err !== "object") return `a thrown ${err === null ? "null" : typeof err}`;
  const e = err as { name?: unknown; message?: unknown; code?: unknown; errno?: unknown; cause?: unknown };
  const name = typeof e.name === "string" && e.name ? e.name : "Error";
  if (typeof e.code === "string" && (typeof e.errno === "number" || "sqlState" in e)) {
    return `${name}: ${e.code}${typeof e.errno === "number" ? ` (errno ${e.errno})` : ""}`;
  }
  const message = typeof e.message === "string" ? redact(e.message) : "";
  const cause = e.cause !== undefined && depth < 3 ? ` (cause: ${describeError(e.cause, depth + 1)})` : "";
  return `${message ? `${name}: ${message}` : name}${cause}`;
}

function redact(message: string) {
  for (const marker of DATA_FOLLOWS) {
    const at = message.indexOf(marker);
    if (at >= 0) message = `${message.slice(0, at)} (the rest is not logged)`;
  }
  return message.replace(QUOTED, "…").replace(/\s+/g, " ").trim().slice(0, 300);
}

/** A stack trace without its message line(s): where, never what. */
export const stackFrames = (err: unknown) =>
  err instanceof Error && err.stack
    ? err.stack.split("\n").filter((line) => /^\s+at /.test(line)).join("\n")
    : undefined;
