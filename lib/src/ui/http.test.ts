import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { forwardedHeaders } from "../forwarded.ts";
import { clientIp, htmlResponse, pageBody, sameOriginForms, UNVERIFIED_CLIENT } from "./http.ts";

test("a page is answered whole, with its length and type, whether small or over 16 KiB (then in pieces), as text or as made once", async () => {
  const small = "<p>café</p>";
  const large = `<p>${"é".repeat(20_000)}</p>`; // 40 kB of UTF-8: three pieces
  const [smallBody, largeBody] = [pageBody(small), pageBody(large)];
  expect(smallBody).toBeInstanceOf(Blob);
  expect(largeBody).toBeInstanceOf(Uint8Array);
  const app = new Hono()
    .get("/small", (c) => htmlResponse(c, 200, small))
    .get("/large", (c) => htmlResponse(c, 404, large, { "Cache-Control": "no-store" }))
    .get("/made/small", (c) => htmlResponse(c, 200, smallBody))
    .get("/made/large", (c) => htmlResponse(c, 200, largeBody));
  const cases = [
    ["/small", small, 200],
    ["/large", large, 404],
    ["/made/small", small, 200],
    ["/made/large", large, 200],
  ] as const;
  for (const [path, text, status] of cases) {
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(Number(res.headers.get("content-length"))).toBe(new TextEncoder().encode(text).length);
    expect(await res.text()).toBe(text);
  }
  expect((await app.request("/large")).headers.get("cache-control")).toBe("no-store");
});

describe("what a page tier takes from X-Forwarded-*: only what the proxy signed", () => {
  const KEY = "k".repeat(40);
  const app = (key?: string) =>
    new Hono()
      .post("/form", sameOriginForms(key), (c) => c.text("posted"))
      .post("/ip", (c) => c.text(clientIp(c, key)))
      .onError((err) => new Response(err.message, { status: 403 }));
  const post = (a: Hono, path: string, headers: Record<string, string>) =>
    a.request(`http://shop.example${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: "a=1",
    });

  test("a form from the origin it was sent to passes; one from another site with its own X-Forwarded-Host is refused", async () => {
    expect((await post(app(KEY), "/form", { Origin: "http://shop.example" })).status).toBe(200);
    // Before, the client's X-Forwarded-Host made another site's origin this one's.
    for (const key of [KEY, undefined]) {
      const spoofed = await post(app(key), "/form", {
        Origin: "http://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "http",
      });
      expect(spoofed.status).toBe(403);
      expect(await spoofed.text()).toContain("sent from another site");
    }
  });

  test("the proxy's signed host and scheme name the site's public origin (a proxy that changes Host)", async () => {
    const facts = { address: "203.0.113.1", proto: "https", host: "www.shop.example" };
    const signed = forwardedHeaders(KEY, facts);
    expect((await post(app(KEY), "/form", { Origin: "https://www.shop.example", ...signed })).status).toBe(
      200,
    );
    // The same headers without the key that checks them, or with another's signature, count for nothing.
    expect((await post(app(), "/form", { Origin: "https://www.shop.example", ...signed })).status).toBe(403);
    const forged = forwardedHeaders("f".repeat(40), facts);
    expect((await post(app(KEY), "/form", { Origin: "https://www.shop.example", ...forged })).status).toBe(
      403,
    );
  });

  test("the client's address is the proxy's signed one; any other X-Forwarded-For is one unverified client", async () => {
    const ip = async (a: Hono, headers: Record<string, string>) => (await post(a, "/ip", headers)).text();
    const signed = forwardedHeaders(KEY, { address: "203.0.113.7", proto: "http", host: "shop.example" });
    expect(await ip(app(KEY), signed)).toBe("203.0.113.7");
    expect(await ip(app(KEY), { ...signed, "X-Forwarded-For": "198.51.100.1, 203.0.113.7" })).toBe(
      "203.0.113.7",
    );
    for (const xff of ["198.51.100.2", "198.51.100.3, 198.51.100.4"]) {
      expect(await ip(app(KEY), { "X-Forwarded-For": xff })).toBe(UNVERIFIED_CLIENT);
      expect(await ip(app(KEY), { ...signed, "X-Forwarded-For": xff })).toBe(UNVERIFIED_CLIENT);
    }
    expect(await ip(app(), signed)).toBe(UNVERIFIED_CLIENT);
  });
});
