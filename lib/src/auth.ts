// The Bearer check between the tiers, and the one constant-time comparison every
// app uses (tokens, digests, CSRF tokens). hono/bearer-auth compares tokens by
// hashing both with SHA-256 (async WebCrypto) on every request, which cost the api
// about a tenth of its CPU; a plain constant-time comparison of the bytes is as safe
// for a fixed-length random token and much cheaper.
import { timingSafeEqual } from "node:crypto";
import { bearerAuth } from "hono/bearer-auth";

const encoder = new TextEncoder();
const bytesOf = (x: Uint8Array | string) => typeof x === "string" ? encoder.encode(x) : x;

/**
 * Equal bytes (a string is compared as its UTF-8), in time that depends only on the
 * length: how much of a secret matched is not told by how long the answer takes.
 * A different length is an early false, so compare secrets or digests of one length.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function serviceAuth(token: string) {
  const expected = encoder.encode(token);
  return bearerAuth({ verifyToken: (given) => constantTimeEqual(given, expected) });
}
