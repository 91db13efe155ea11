import { expect, test } from "bun:test";
import { Hono } from "hono";
import { htmlResponse } from "./http.ts";

test("a page is answered whole, with its length and type, whether small or over 16 KiB (then in pieces)", async () => {
  const small = "<p>café</p>";
  const large = `<p>${"é".repeat(20_000)}</p>`; // 40 kB of UTF-8: three pieces
  const app = new Hono()
    .get("/small", (c) => htmlResponse(c, 200, small))
    .get("/large", (c) => htmlResponse(c, 404, large, { "Cache-Control": "no-store" }));
  for (const [path, text, status] of [["/small", small, 200], ["/large", large, 404]] as const) {
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(Number(res.headers.get("content-length"))).toBe(new TextEncoder().encode(text).length);
    expect(await res.text()).toBe(text);
  }
  expect((await app.request("/large")).headers.get("cache-control")).toBe("no-store");
});
