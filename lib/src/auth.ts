// The Bearer check between the tiers. hono/bearer-auth compares tokens by hashing
// both with SHA-256 (async WebCrypto) on every request, which cost the api about a
// tenth of its CPU; a plain constant-time comparison of the bytes is as safe for a
// fixed-length random token and much cheaper.
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { bearerAuth } from "hono/bearer-auth";

export function serviceAuth(token: string) {
  const expected = Buffer.from(token);
  return bearerAuth({
    verifyToken: (given) => {
      const bytes = Buffer.from(given);
      return bytes.length === expected.length && timingSafeEqual(bytes, expected);
    },
  });
}
