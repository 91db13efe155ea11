// SRH's three command endpoints. Each answers 200 with {"result"} (or an array of
// {"result"}/{"error"}), 400 with {"error"} for a bad body, a Redis error reply or a
// command the bridge does not pass on (protocol.ts, ALLOWED_COMMANDS: in a pipeline,
// that entry alone), and leaves connection failures to app.onError (500).
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { constantTimeEqual } from "@bazaar/lib/auth.ts";
import type { Redis } from "../redis.ts";
import { RedisError } from "../resp.ts";
import { type Entry, messages, refusal, toCommand, toEntry, toJson, toPipeline } from "../protocol.ts";

/** A token the bridge accepts and the Redis its requests go to. */
export type Route = { token: string; redis: Redis };

type Env = { Variables: { base64: boolean; redis: Redis } };

/** SRH: a header that is not exactly "Bearer <token>" is a 400; a wrong token a 401. */
function auth(routes: readonly Route[]): MiddlewareHandler<Env> {
  const encoder = new TextEncoder();
  const expected = routes.map((r) => ({ token: encoder.encode(r.token), redis: r.redis }));
  return async (c, next) => {
    const parts = c.req.header("authorization")?.split(" ");
    if (parts?.length !== 2 || parts[0] !== "Bearer") return c.json({ error: messages.authHeader }, 400);
    const given = encoder.encode(parts[1]!);
    // Every token is compared (each in constant time): which one matched takes no longer.
    let redis: Redis | undefined;
    for (const e of expected) {
      if (constantTimeEqual(given, e.token)) redis ??= e.redis;
    }
    if (!redis) return c.json({ error: messages.token }, 401);
    c.set("redis", redis);
    c.set("base64", c.req.header("upstash-encoding")?.toLowerCase() === "base64");
    await next();
  };
}

const MALFORMED = Symbol("malformed");
const body = (c: Context) => c.req.json<unknown>().catch(() => MALFORMED);

export function commands(routes: readonly Route[]) {
  const guard = auth(routes);

  return new Hono<Env>()
    .post("/", guard, async (c) => {
      const json = await body(c);
      if (json === MALFORMED) return c.json({ error: messages.json }, 400);
      const command = toCommand(json);
      if (!command) return c.json({ error: messages.command }, 400);
      const refused = refusal(command);
      if (refused) return c.json({ error: refused }, 400);
      const reply = await c.var.redis.shared.send(command);
      if (reply instanceof RedisError) return c.json({ error: reply.message }, 400);
      return c.json({ result: toJson(reply, c.var.base64) });
    })
    // Not atomic (as in SRH): each command's error is its own entry.
    .post("/pipeline", guard, async (c) => {
      const json = await body(c);
      if (json === MALFORMED) return c.json({ error: messages.json }, 400);
      const commands = toPipeline(json);
      if (!commands) return c.json({ error: messages.pipeline }, 400);
      const refusals = commands.map(refusal);
      const runnable = commands.filter((_, i) => !refusals[i]);
      const replies = await c.var.redis.shared.sendAll(runnable);
      const base64 = c.var.base64;
      let next = 0;
      return c.json(
        commands.map((_, i): Entry =>
          refusals[i] ? { error: refusals[i] } : toEntry(replies[next++]!, base64)
        ),
      );
    })
    // MULTI, the commands and EXEC go out in one write on a leased connection, so
    // nothing else runs on it in between and the pool never sees a half transaction.
    .post("/multi-exec", guard, async (c) => {
      const json = await body(c);
      if (json === MALFORMED) return c.json({ error: messages.json }, 400);
      const commands = toPipeline(json);
      if (!commands) return c.json({ error: messages.pipeline }, 400);
      for (const command of commands) {
        const refused = refusal(command);
        if (refused) return c.json({ error: refused }, 400);
      }
      if (commands.length === 0) return c.json([]);
      const replies = await c.var.redis.exclusive((conn) => conn.sendAll([["MULTI"], ...commands, ["EXEC"]]));
      const exec = replies[replies.length - 1]!;
      // A command refused while queueing makes Redis discard the whole transaction (EXECABORT).
      if (exec instanceof RedisError) return c.json({ error: exec.message }, 400);
      if (!Array.isArray(exec)) return c.json({ error: "EXECABORT Transaction discarded." }, 400);
      const base64 = c.var.base64;
      return c.json(exec.map((reply) => toEntry(reply, base64)));
    });
}
