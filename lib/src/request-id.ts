// Which request ids may make a purchase idempotent: only the proxy's. HAProxy gives
// every request a fresh id and signs a POST's (proxy/haproxy.cfg: X-Request-Id-Sig, an
// HMAC-SHA256 of the id under the request_id_key secret); web keeps a POST's id only
// when its signature verifies (a read's id cannot buy: web/src/app.ts). Anyone who reaches a web server directly (compose publishes
// their ports on 127.0.0.1) can send any X-Request-Id, but not its signature, so a
// forged id is logged as the client's and the request gets a fresh one of its own
// (docs/design.md, "Request ids").
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./auth.ts";

export const REQUEST_ID_SIG_HEADER = "X-Request-Id-Sig";

/**
 * The signature of `id`: HMAC-SHA256 keyed with the key's UTF-8 bytes, in lower-case
 * hex — what HAProxy's `unique-id,hmac(sha256,<var>),hex,lower` gives when the
 * variable holds the base64 of the same bytes (requestIdKeyMap).
 */
export const requestIdSignature = (key: string, id: string) =>
  createHmac("sha256", key).update(id).digest("hex");

const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Whether `signature` is the proxy's for `id`, compared in constant time. Without a
 * key nothing verifies: every id is the client's own.
 */
export function isSignedRequestId(
  key: string | undefined,
  id: string,
  signature: string | undefined,
): boolean {
  if (!key || !signature || !SIGNATURE.test(signature)) return false;
  return constantTimeEqual(signature, requestIdSignature(key, id));
}

/** The key in the map-file line haproxy.cfg loads it from (global `set-var … map(…)`). */
export const REQUEST_ID_KEY_MAP_ENTRY = "request_id_key";

/**
 * The proxy's copy of the key: a one-line HAProxy map file, the key's bytes in base64
 * (the form HAProxy's hmac converter takes its key in).
 */
export const requestIdKeyMap = (key: string) =>
  `${REQUEST_ID_KEY_MAP_ENTRY} ${Buffer.from(key, "utf8").toString("base64")}\n`;
