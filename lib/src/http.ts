// One error shape for every app: {"error":{"code":N,"message":"…"}}, plus the
// middleware that guards a JSON body (size, content type, schema).
import type { Context, Env, MiddlewareHandler, Schema } from "hono";
import type { HonoBase } from "hono/hono-base";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { vValidator } from "@hono/valibot-validator";
import type * as v from "valibot";
import { describeIssues } from "./schemas.ts";
import { describeError, jsonLines, type Log, stackFrames } from "./log.ts";

export type ErrorBody = { error: { code: number; message: string; fields?: Record<string, string> } };

export const errorBody = (code: number, message: string, fields?: Record<string, string>): ErrorBody => ({
  error: fields && Object.keys(fields).length ? { code, message, fields } : { code, message },
});

/** Throw from anywhere in a handler: becomes the error shape with this status. */
export function fail(status: ContentfulStatusCode, message: string, fields?: Record<string, string>): never {
  throw new HTTPException(status, { message, cause: fields ? { fields } : undefined });
}

/** Raised for infrastructure that is down (the database, the API): answered 503. */
export class Unavailable extends HTTPException {
  constructor(what: string, cause?: unknown) {
    super(503, { message: `${what} is temporarily unavailable`, cause });
  }
}

/** How an app answers an error; JSON apps use the default, page apps render HTML. */
export type ErrorResponder<E extends Env = Env> = (
  c: Context<E>,
  status: ContentfulStatusCode,
  message: string,
  fields?: Record<string, string>,
) => Response | Promise<Response>;

export const jsonError = <E extends Env>(
  c: Context<E>,
  status: ContentfulStatusCode,
  message: string,
  fields?: Record<string, string>,
): Response => c.json(errorBody(status, message, fields), status);

// For exceptions raised by Hono's own middleware without a message of ours.
const DEFAULT_MESSAGES: Record<number, string> = {
  400: "bad request",
  401: "unauthorized",
  403: "forbidden",
  404: "not found",
  405: "method not allowed",
  413: "request body too large",
  415: "unsupported content type",
  429: "too many requests",
};

export type ErrorOptions<E extends Env = Env> = {
  /** How errors are answered (default: the JSON shape). */
  respond?: ErrorResponder<E>;
  /** The message of the 404 for a path no route has. */
  notFoundMessage?: string;
  /** Where 5xx errors are logged. */
  log?: Log;
};

/**
 * app.onError / app.notFound in the one shape; never a stack trace to the client.
 * Returns the app with its own type, routes included, so that `typeof` it types a
 * hono/client `hc`. (HonoBase, not Hono: it is what `.route()` and `.use()` return.)
 */
export function handleErrors<E extends Env, S extends Schema, B extends string, P extends string>(
  app: HonoBase<E, S, B, P>,
  { respond = jsonError, notFoundMessage = "not found", log = jsonLines }: ErrorOptions<E> = {},
): HonoBase<E, S, B, P> {
  app.notFound((c) => respond(c, 404, notFoundMessage));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status >= 500) {
        const cause = err.cause === undefined ? "" : describeError(err.cause);
        log({ level: "error", msg: err.message, cause, path: c.req.path });
      }
      const fields = (err.cause as { fields?: Record<string, string> } | undefined)?.fields;
      const status = err.status as ContentfulStatusCode;
      return respond(c, status, err.message || (DEFAULT_MESSAGES[status] ?? "error"), fields);
    }
    // Described, never printed: a database or cache error's message carries its statement or command.
    const error = describeError(err);
    log({ level: "error", msg: "unhandled error", error, stack: stackFrames(err), path: c.req.path });
    return respond(c, 500, "internal error");
  });
  return app;
}

export const BODY_LIMIT = 16 * 1024;

/** 415 unless the body is declared as JSON. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    fail(415, "content type must be application/json");
  }
  await next();
};

export const limitBody = (maxSize = BODY_LIMIT) =>
  bodyLimit({ maxSize, onError: () => fail(413, `request body is larger than ${maxSize} bytes`) });

/** Validate a request part with a valibot schema; a miss is a 400 naming each bad field. */
export function validate<
  T extends v.GenericSchema,
  Target extends "json" | "form" | "query" | "param" | "header",
>(
  target: Target,
  schema: T,
) {
  return vValidator(target, schema, (result) => {
    if (!result.success) {
      const { message, fields } = describeIssues(
        result.issues as [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]],
      );
      fail(400, message, fields);
    }
  });
}

/**
 * A body with no Content-Type at all is read as JSON (Python's `http.client` and
 * `requests.post(data=…)` send none: the toy-store lab's clients); a different declared
 * type still gets 415 from requireJson.
 */
export const untypedIsJson: MiddlewareHandler = async (c, next) => {
  if (!c.req.header("content-type")) {
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    c.req.raw = new Request(c.req.raw, { headers });
  }
  await next();
};

/** The whole guard for a JSON body: size, then content type, then schema. */
export const jsonBody = <T extends v.GenericSchema>(schema: T, maxSize = BODY_LIMIT) =>
  [limitBody(maxSize), requireJson, validate("json", schema)] as const;

/** jsonBody for the lab's public JSON routes: a body sent with no Content-Type is JSON too. */
export const labJsonBody = <T extends v.GenericSchema>(schema: T, maxSize = BODY_LIMIT) =>
  [limitBody(maxSize), untypedIsJson, requireJson, validate("json", schema)] as const;
