import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { Hono } from "hono";
import { type HonoEnv, withRequestId } from "./log.ts";
import {
  isSignedRequestId,
  REQUEST_ID_KEY_MAP_ENTRY,
  REQUEST_ID_SIG_HEADER,
  requestIdKeyMap,
  requestIdSignature,
} from "./request-id.ts";

const KEY = "secret-key-xyz";
// Made by HAProxy 2.6 itself, from a map file written by requestIdKeyMap(KEY):
//   set-var proc.request_id_key str(request_id_key),map(<file>)
//   %[unique-id] %[unique-id,hmac(sha256,proc.request_id_key),hex,lower]
const HAPROXY_ID = "810683cc27784eb680c6909587f5bb23";
const HAPROXY_SIG = "1c077d5174fa9f88123dfa2355d5f7d0ca1ef0f3868b1b35845c63c1f263fb1d";

describe("the request id's signature", () => {
  test("is the one HAProxy's hmac converter makes from the map file's key", () => {
    expect(requestIdSignature(KEY, HAPROXY_ID)).toBe(HAPROXY_SIG);
    const [entry, base64] = requestIdKeyMap(KEY).trimEnd().split(" ");
    expect(entry).toBe(REQUEST_ID_KEY_MAP_ENTRY);
    expect(Buffer.from(base64!, "base64").toString("utf8")).toBe(KEY);
    expect(requestIdKeyMap(KEY).endsWith("\n")).toBe(true);
  });

  test("verifies only for the right key, the same id and the exact signature", () => {
    expect(isSignedRequestId(KEY, HAPROXY_ID, HAPROXY_SIG)).toBe(true);
    expect(isSignedRequestId(`${KEY}!`, HAPROXY_ID, HAPROXY_SIG)).toBe(false);
    expect(isSignedRequestId(KEY, HAPROXY_ID.replace("8", "9"), HAPROXY_SIG)).toBe(false);
    expect(isSignedRequestId(KEY, HAPROXY_ID, HAPROXY_SIG.replace("1", "2"))).toBe(false);
  });

  test("anything but 64 lower-case hex digits is refused before comparing: upper case, short, long, empty, absent", () => {
    for (
      const sig of [
        HAPROXY_SIG.toUpperCase(),
        HAPROXY_SIG.slice(1),
        `${HAPROXY_SIG}0`,
        `${HAPROXY_SIG} `,
        "",
        undefined,
      ]
    ) {
      expect({ sig, ok: isSignedRequestId(KEY, HAPROXY_ID, sig) }).toEqual({ sig, ok: false });
    }
  });

  test("without a key nothing verifies, not even a signature made with an empty key", () => {
    expect(isSignedRequestId(undefined, HAPROXY_ID, HAPROXY_SIG)).toBe(false);
    expect(isSignedRequestId("", HAPROXY_ID, requestIdSignature("", HAPROXY_ID))).toBe(false);
  });
});

describe("withRequestId with a trust check", () => {
  const app = (trust?: Parameters<typeof withRequestId>[0]) =>
    new Hono<HonoEnv>()
      .use(withRequestId(trust))
      .get("/", (c) => c.json({ id: c.get("requestId"), client: c.get("clientRequestId") }));
  const signedOnly = (id: string, c: { req: { header(n: string): string | undefined } }) =>
    isSignedRequestId(KEY, id, c.req.header(REQUEST_ID_SIG_HEADER));
  const get = async (a: Hono<HonoEnv>, headers: Record<string, string>) => {
    const res = await a.request("/", { headers });
    const body = (await res.json()) as { id: string; client?: string };
    return { header: res.headers.get("x-request-id"), ...body };
  };

  test("a signed id is kept: the request's id and the answer's header", async () => {
    const r = await get(app(signedOnly), {
      "X-Request-Id": HAPROXY_ID,
      [REQUEST_ID_SIG_HEADER]: HAPROXY_SIG,
    });
    expect(r).toEqual({ header: HAPROXY_ID, id: HAPROXY_ID });
  });

  test("an unsigned or wrongly signed id is replaced by a fresh UUID, and kept only as the client's (for the log)", async () => {
    for (const sig of [undefined, "0".repeat(64)]) {
      const headers: Record<string, string> = {
        "X-Request-Id": HAPROXY_ID,
        ...(sig ? { [REQUEST_ID_SIG_HEADER]: sig } : {}),
      };
      const a = await get(app(signedOnly), headers);
      const b = await get(app(signedOnly), headers);
      expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.header).toBe(a.id);
      expect(a.client).toBe(HAPROXY_ID);
      expect(b.id).not.toBe(a.id);
    }
  });

  test("without a trust check (the APIs, behind their token) a well-formed id is kept; a malformed one is replaced and not logged", async () => {
    expect(await get(app(), { "X-Request-Id": "abc-123" })).toEqual({ header: "abc-123", id: "abc-123" });
    const odd = await get(app(), { "X-Request-Id": "a b<c>" });
    expect(odd.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(odd.client).toBeUndefined();
    expect((await get(app(), {})).id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
