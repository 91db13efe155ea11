import { describe, expect, test } from "bun:test";
import { NotSent, timedFetch } from "./upstream.ts";

const failing = (err: unknown) => () => Promise.reject(err);

describe("timedFetch: a refused connection is a NotSent, anything else passes as it came", () => {
  test("a real refused connection (port 9 on 127.0.0.1: nothing listens)", async () => {
    const err = await timedFetch(2000)("http://127.0.0.1:9/").catch((e) => e);
    expect(err).toBeInstanceOf(NotSent);
  });

  test("as each runtime says it: Bun's code, Node's cause's code, Deno's message", async () => {
    const bun = Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" });
    const node = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    const deno = new TypeError("fetch failed", {
      cause: new Error("client error (Connect): tcp connect error: Connection refused (os error 111)"),
    });
    for (const err of [bun, node, deno]) {
      const thrown = await timedFetch(1000, failing(err))("http://api.test/").catch((e) => e);
      expect(thrown).toBeInstanceOf(NotSent);
      expect((thrown as NotSent).cause).toBe(err);
    }
  });

  test("a reset, a timeout or any other failure is not a NotSent (it may have been sent)", async () => {
    const reset = Object.assign(new TypeError("socket closed"), { code: "ECONNRESET" });
    const timeout = new DOMException("timed out", "TimeoutError");
    for (const err of [reset, timeout, new Error("boom")]) {
      expect(await timedFetch(1000, failing(err))("http://api.test/").catch((e) => e)).toBe(err);
    }
  });
});
