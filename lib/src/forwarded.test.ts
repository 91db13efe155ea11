import { describe, expect, test } from "bun:test";
import {
  FORWARDED_SIG_HEADER,
  forwardedHeaders,
  forwardedMessage,
  forwardedSignature,
  verifiedForwarded,
} from "./forwarded.ts";

const KEY = "secret-key-xyz";
// Made by HAProxy 2.6 itself with proxy/haproxy.cfg's rules, the key from a map file
// written by requestIdKeyMap(KEY), for a POST /admin/login from 127.0.0.1 with
// "Host: shop.example:8080" (and a client's own X-Forwarded-Host: evil, replaced):
//   %[var(txn.forwarded)]  %[req.fhdr(x-forwarded-sig)]
const FACTS = { address: "127.0.0.1", proto: "http", host: "shop.example:8080" };
const HAPROXY_MESSAGE = "forwarded 127.0.0.1 http shop.example:8080";
const HAPROXY_SIG = "7018cc5a24c256a543b94bb77a4356b1568d8bcdf6d00d68302db1c2211b5dac";

const headersOf = (h: Record<string, string>) => {
  const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  return (name: string) => lower[name.toLowerCase()];
};

describe("the proxy's forwarded facts", () => {
  test("are signed as HAProxy signs them", () => {
    expect(forwardedMessage(FACTS)).toBe(HAPROXY_MESSAGE);
    expect(forwardedSignature(KEY, FACTS)).toBe(HAPROXY_SIG);
  });

  test("count when the signature verifies; the address is X-Forwarded-For's last entry (HAProxy's, after the client's own)", () => {
    const sent = { ...forwardedHeaders(KEY, FACTS), "X-Forwarded-For": "203.0.113.66, 127.0.0.1" };
    expect(verifiedForwarded(KEY, headersOf(sent))).toEqual(FACTS);
  });

  test("do not count when any of them was changed, the signature is not the proxy's, or there is no key", () => {
    const good = forwardedHeaders(KEY, FACTS);
    const changed = [
      { ...good, "X-Forwarded-For": "127.0.0.2" },
      { ...good, "X-Forwarded-For": "127.0.0.1, 127.0.0.2" },
      { ...good, "X-Forwarded-Host": "evil.example" },
      { ...good, "X-Forwarded-Proto": "https" },
      { ...good, [FORWARDED_SIG_HEADER]: HAPROXY_SIG.toUpperCase() },
      { ...good, [FORWARDED_SIG_HEADER]: "0".repeat(64) },
      { ...good, [FORWARDED_SIG_HEADER]: "" },
      Object.fromEntries(Object.entries(good).filter(([k]) => k !== FORWARDED_SIG_HEADER)),
      Object.fromEntries(Object.entries(good).filter(([k]) => k !== "X-Forwarded-For")),
    ];
    for (const h of changed) {
      expect({ h, facts: verifiedForwarded(KEY, headersOf(h)) }).toEqual({ h, facts: undefined });
    }
    expect(verifiedForwarded(`${KEY}!`, headersOf(good))).toBeUndefined();
    expect(verifiedForwarded(undefined, headersOf(good))).toBeUndefined();
    expect(verifiedForwarded("", headersOf(forwardedHeaders("", FACTS)))).toBeUndefined();
  });
});
