// Versions as HTTP validators: a version ("i12.7", "c3.1520") is sent as a strong
// ETag, and a request whose If-None-Match names the current one is answered 304.
// Not hono/etag: it answers 304 only after the handler has built the body, and here
// the point is to skip that work (the api's list query, web's page) when unchanged.
import type { Context } from "hono";

export const etagOf = (version: string) => `"${version}"`;

/** True when the request's If-None-Match names this ETag (or is "*"). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string) {
  if (!ifNoneMatch) return false;
  for (const part of ifNoneMatch.split(",")) {
    const tag = part.trim();
    if (tag === "*" || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}

/** Sets the ETag; a 304 without a body when the request already has this version, else undefined. */
export function conditional(c: Context, etag: string): Response | undefined {
  c.header("ETag", etag);
  if (matchesEtag(c.req.header("if-none-match"), etag)) return c.body(null, 304);
  return undefined;
}
