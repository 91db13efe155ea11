// What the proxy says about a request, and how an app knows the proxy said it. The
// admin servers act on two forwarded facts: the client's address (the sign-in limit,
// admin-api/src/logins.ts) and the host the client asked for (the form origin check,
// lib/src/ui/http.ts). Anyone who reaches an admin server's port directly (compose
// publishes them on 127.0.0.1; locally they are plain ports) can send X-Forwarded-*
// headers of their own, so those count only with the proxy's X-Forwarded-Sig: an
// HMAC-SHA256 under the request-id key (lib/src/request-id.ts, the same secret) of
// "forwarded <address> <proto> <host>" (proxy/haproxy.cfg; only on the admin's POSTs,
// the only requests that use them). The host comes last: it is the one part a client
// chooses, so no part can be shifted into another.
import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./auth.ts";

export const FORWARDED_SIG_HEADER = "X-Forwarded-Sig";

/** The client's address (HAProxy's `src`), the scheme, and the Host it sent. */
export type Forwarded = { address: string; proto: string; host: string };

/** What HAProxy signs: `set-var-fmt(txn.forwarded) "forwarded %[src] … …"`. */
export const forwardedMessage = ({ address, proto, host }: Forwarded) =>
  `forwarded ${address} ${proto} ${host}`;

/** The signature, as HAProxy's `hmac(sha256,…),hex,lower` makes it from the map file's key. */
export const forwardedSignature = (key: string, facts: Forwarded) =>
  createHmac("sha256", key).update(forwardedMessage(facts)).digest("hex");

/** The headers the proxy sends with these facts (tests, and anything standing in for the proxy). */
export const forwardedHeaders = (key: string, facts: Forwarded): Record<string, string> => ({
  "X-Forwarded-For": facts.address,
  "X-Forwarded-Proto": facts.proto,
  "X-Forwarded-Host": facts.host,
  [FORWARDED_SIG_HEADER]: forwardedSignature(key, facts),
});

const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * The forwarded facts when the proxy signed them, else undefined (no key, no or a
 * wrong signature). The address is X-Forwarded-For's last entry, the one HAProxy's
 * `option forwardfor` adds after whatever the client sent.
 */
export function verifiedForwarded(
  key: string | undefined,
  header: (name: string) => string | undefined,
): Forwarded | undefined {
  const signature = header(FORWARDED_SIG_HEADER);
  if (!key || !signature || !SIGNATURE.test(signature)) return undefined;
  const address = header("x-forwarded-for")?.split(",").pop()?.trim();
  if (!address) return undefined;
  const facts = { address, proto: header("x-forwarded-proto") ?? "", host: header("x-forwarded-host") ?? "" };
  return constantTimeEqual(signature, forwardedSignature(key, facts)) ? facts : undefined;
}
