// The Upstash-compatible REST bridge: SRH's protocol (hiett/serverless-redis-http)
// in front of a real redis-server, for machines without Docker. Every answer is JSON,
// with SRH's statuses and messages, so @upstash/redis cannot tell the two apart.
import { Hono } from "hono";
import { describeError } from "@bazaar/lib/log.ts";
import { ConnectionError, type Redis } from "./redis.ts";
import { messages } from "./protocol.ts";
import { commands, type Route } from "./routes/commands.ts";

export type { Route };

/**
 * `routes`: each token the bridge accepts and the Redis it reaches (SRH's file mode
 * can list several); `{ redis, token }` is the one-route case.
 */
export type BridgeDeps = ({ routes: readonly Route[] } | { redis: Redis; token: string }) & {
  log?: (msg: string, err: unknown) => void;
};

const defaultLog = (msg: string, err: unknown) =>
  console.error(
    JSON.stringify({
      level: "warn",
      service: "bridge",
      msg,
      // Described, never printed (a command's arguments are data): cause included.
      error: describeError(err),
    }),
  );

export function createBridge(deps: BridgeDeps) {
  const { log = defaultLog } = deps;
  const routes = "routes" in deps ? deps.routes : [{ token: deps.token, redis: deps.redis }];
  let quietUntil = 0; // while Redis is down, one log line a second is enough

  const app = new Hono()
    // SRH's liveness answer; it does not touch Redis.
    .get("/", (c) => c.json("Welcome to Serverless Redis HTTP!"))
    // SRH checks the content type of every POST before anything else, exactly.
    .use(async (c, next) => {
      if (c.req.method === "POST" && c.req.header("content-type") !== "application/json") {
        return c.json({ error: messages.contentType }, 400);
      }
      await next();
    })
    .route("/", commands(routes));

  app.notFound((c) => c.json({ error: messages.notFound }, 404));
  app.onError((err, c) => {
    const unreachable = err instanceof ConnectionError;
    if (!unreachable || Date.now() >= quietUntil) {
      log(unreachable ? "redis unreachable" : "unhandled error", err);
      if (unreachable) quietUntil = Date.now() + 1000;
    }
    return c.json({ error: unreachable ? messages.connection : messages.internal }, 500);
  });
  return app;
}

export type BridgeApp = ReturnType<typeof createBridge>;
