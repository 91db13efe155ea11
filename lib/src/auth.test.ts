import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Hono } from "hono";
import { constantTimeEqual, serviceAuth } from "./auth.ts";

describe("constantTimeEqual", () => {
  test("equal bytes or strings are equal; one differing byte, or another length, is not", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
    expect(constantTimeEqual("s3cret", "s3cret")).toBe(true);
    expect(constantTimeEqual("s3cret", "s3creT")).toBe(false);
    expect(constantTimeEqual("s3cret", new TextEncoder().encode("s3cret"))).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("é", "e\u0301")).toBe(false);
  });

  test("compares with crypto's timingSafeEqual, which visits every byte (timing is too noisy to measure here)", () => {
    const source = readFileSync(path.join(import.meta.dir, "auth.ts"), "utf8");
    const body = source.slice(source.indexOf("export function constantTimeEqual"));
    expect(body.slice(0, body.indexOf("\n}"))).toMatch(/timingSafeEqual\(x, y\)/);
  });
});

describe("serviceAuth", () => {
  const app = new Hono().use(serviceAuth("token-123")).get("/", (c) => c.text("ok"));
  const get = (authorization?: string) =>
    app.request("/", { headers: authorization ? { authorization } : {} });

  test("the right Bearer token passes; a wrong one, another length, or none is 401", async () => {
    expect((await get("Bearer token-123")).status).toBe(200);
    expect((await get("Bearer token-124")).status).toBe(401);
    expect((await get("Bearer token-1234")).status).toBe(401);
    expect((await get()).status).toBe(401);
  });
});
