import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { conditional, etagOf, matchesEtag } from "./etag.ts";

describe("ETags", () => {
  test("If-None-Match matches the exact tag, its weak form, one of a list, or *", () => {
    const tag = etagOf("i3.7");
    expect(tag).toBe('"i3.7"');
    expect(matchesEtag('"i3.7"', tag)).toBe(true);
    expect(matchesEtag('W/"i3.7"', tag)).toBe(true);
    expect(matchesEtag('"x", "i3.7"', tag)).toBe(true);
    expect(matchesEtag("*", tag)).toBe(true);
    expect(matchesEtag('"i3.8"', tag)).toBe(false);
    expect(matchesEtag(undefined, tag)).toBe(false);
  });

  test("a request with the current version gets 304 and no body; others the body and the tag", async () => {
    const app = new Hono().get("/", (c) => conditional(c, '"v1"') ?? c.text("body"));
    const plain = await app.request("/");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("etag")).toBe('"v1"');
    const same = await app.request("/", { headers: { "If-None-Match": '"v1"' } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    expect(same.headers.get("etag")).toBe('"v1"');
    expect((await app.request("/", { headers: { "If-None-Match": '"v0"' } })).status).toBe(200);
  });
});
