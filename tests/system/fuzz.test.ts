// Hostile input (docs/reliability.md). fast-check sends random and malicious bodies,
// paths, query strings, headers and form fields to every public and admin endpoint
// (signed in and not): SQL injection, very long strings, unicode and invalid UTF-8,
// numbers out of range, arrays where strings belong, __proto__/constructor keys, huge
// bodies and slow clients. Every answer must be a 4xx in the error shape (JSON) or an
// error page (HTML) — never a 5xx — and the database must not change.
//
// Inputs are hostile by construction: names never match an item and quantities or
// prices are always out of range somewhere, so no request may legitimately write.
// Sign-in attempts go straight to an admin server with a client address of their
// own (X-Forwarded-For, signed as the proxy signs it), so the fuzz never trips the
// login rate limit of the address every other test signs in from.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import net from "node:net";
import fc from "fast-check";
import type { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { nameKey } from "../../lib/src/name-key.ts";
import { adminBrowser, asProxied, dataChecksum, restoreAll } from "./helpers.ts";
import { env } from "./stack.ts";

const RUNS = 150;
const SEEDED = new Set([
  "tux",
  "fox",
  "python",
  "whale",
  "gopher",
  "ferris",
  "duke",
  "elephant",
  "octocat",
  "dolphin",
]);

const NASTY = [
  "' OR '1'='1",
  "'; DROP TABLE items; --",
  "Tux' UNION SELECT user, password FROM mysql.user -- ",
  "1; SELECT SLEEP(5)",
  "\\'; DELETE FROM orders; #",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "../../../etc/passwd",
  "..%2f..%2f",
  "%00",
  "\u0000",
  "\u202e\u0041",
  "\ufeff",
  "𝕿𝖚𝖝",
  "ｔｕｘ",
  "TUX\u0301",
  "\ud800",
  "${7*7}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "prototype",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "9007199254740993",
  "0x10",
  " ",
  "\t\n",
  "a".repeat(65),
  "b".repeat(5000),
];
/** A string no item is called. */
const hostile = fc
  .oneof(
    fc.constantFrom(...NASTY),
    fc.string({ unit: "grapheme", maxLength: 100 }),
    fc.string({ unit: "binary", maxLength: 100 }),
    fc.tuple(fc.constantFrom(...NASTY), fc.string({ maxLength: 10 })).map(([a, b]) => a + b),
  )
  // By the names' own rule (NFKC + case folding): "ｔｕｘ" and "𝕿𝖚𝖝" are Tux.
  .filter((s) => !SEEDED.has(nameKey(s.trim())));
/** Numbers no quantity or price allows, and things that are not numbers at all. */
const badNumber = fc.oneof(
  fc.constantFrom(-1, 0, 1_000_001, 1e21, -1e21, 1.5, 0.001, 100_000.01, Number.MAX_SAFE_INTEGER + 2),
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.integer({ min: 1_000_001, max: 2 ** 53 }),
  fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
);
// Hostile strings with no digit: a random string is now and then "7", which is a valid
// quantity and price (with a new name the add succeeded, and the database changed).
const badFormNumber = fc.oneof(
  badNumber.map(String),
  hostile.filter((s) => !/[0-9]/.test(s)),
  fc.constantFrom("1e400", "NaN", "Infinity", "-5", "0x1F", "1,0,0", "1.2.3"),
);
/** No quantity an item may have (0 is one: with a price such as 1.5, badNumber's, an add succeeded). */
const badFormQuantity = badFormNumber.filter((s) => !(/^[0-9]+$/.test(s) && Number(s) <= 1_000_000));
/** A JSON value of any kind, hostile strings inside. */
const anyJson = fc.oneof(
  hostile,
  badNumber,
  fc.constant(null),
  fc.boolean(),
  fc.array(hostile, { maxLength: 3 }),
  fc.dictionary(hostile, hostile, { maxKeys: 3 }),
);

/** Raw JSON texts a serializer would never produce. */
const rawJson = fc.oneof(
  fc.constantFrom(
    '{"__proto__":{"quantity":1},"name":"Nope"}',
    '{"constructor":{"prototype":{"isAdmin":true}},"name":"Nope","quantity":1e400}',
    '{"name":"Nope","quantity":1e400}',
    '{"name":["Tux"],"quantity":[1]}',
    '{"name":{"toString":"Tux"},"quantity":"1"}',
    '{"name":"Tux","quantity":1,"name":"Nope","quantity":-1}',
    '{"name":"\\ud800","quantity":-1}',
    "[]",
    "null",
    "1",
    '"Tux"',
    "{",
    '{"name":',
    "{}".repeat(5000),
    "[".repeat(10_000),
  ),
  fc.tuple(hostile, anyJson, anyJson).map(([k, a, b]) => JSON.stringify({ name: a, quantity: b, [k]: a })),
  fc.record({ name: hostile, quantity: anyJson }).map((o) => JSON.stringify(o)),
  fc.record({ name: anyJson, quantity: badNumber }).map((o) => JSON.stringify(o)),
);
/** Bodies as bytes: JSON, junk, invalid UTF-8. */
const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) =>
  new Uint8Array([0xff, 0xfe, 0xc0, 0x80, ...b, 0xed, 0xa0, 0x80])
);
const jsonBody = fc.oneof(rawJson, invalidUtf8, fc.string({ unit: "binary", maxLength: 300 }));

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,200}$/);
const accept = fc.constantFrom(
  "application/json",
  "text/html",
  "*/*",
  "text/html;q=0, application/json;q=0",
  "",
  "garbage/;;;",
  "text/html, application/json",
);
const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=latin1",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "text/plain",
  "application/evil+json",
  "",
  ";;;",
);
/** Extra headers: junk values in the headers the apps read. */
const junkHeaders = fc.record(
  {
    "X-Forwarded-For": headerValue,
    "X-Forwarded-Host": headerValue,
    "X-Forwarded-Proto": headerValue,
    "X-Request-Id": headerValue,
    Cookie: fc.oneof(
      headerValue,
      fc.constantFrom(
        "bazaar_admin=x",
        "bazaar_admin=" + "a".repeat(3000),
        "bazaar_admin=%ff%fe.sig",
        "bazaar_flash=__proto__",
      ),
    ),
    Origin: fc.oneof(headerValue, fc.constantFrom("null", "http://evil.example", "file://")),
    "Sec-Fetch-Site": fc.constantFrom("cross-site", "same-origin", "none", "junk"),
  },
  { requiredKeys: [] },
);
/** encodeURIComponent throws on a lone surrogate; invalid UTF-8 goes in as %ff etc. instead. */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());
const pathSegment = fc.oneof(
  hostile.map(enc),
  fc.constantFrom(
    "%ff",
    "%c0%80",
    "%ed%a0%80",
    "%00",
    "..",
    "%2e%2e",
    "%",
    "%%",
    "%zz",
    ";",
    "~",
    "a".repeat(3000),
  ),
);
const query = fc.array(
  fc.tuple(
    fc.constantFrom("page", "per_page", "number", "name", "__proto__", "q", "page[]"),
    fc.oneof(badFormNumber, pathSegment),
  ),
  { maxLength: 4 },
)
  .map((kv) =>
    kv.map(([k, v]) =>
      `${encodeURIComponent(k)}=${typeof v === "string" && v.includes("%") ? v : enc(String(v))}`
    ).join("&")
  );
/** Form fields: the expected ones with hostile values, arrays (repeated keys) and extra keys. */
const formBody = (fields: Record<string, fc.Arbitrary<string>>) =>
  fc.tuple(
    fc.record(fields),
    fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...Object.keys(fields), "__proto__", "constructor", "_csrf"), hostile),
        hostile,
      ),
      { maxLength: 3 },
    ),
  )
    .map(([base, extra]) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(base)) params.append(k, v);
      for (const [k, v] of extra) params.append(k, v);
      return params.toString();
    });

type Req = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  base?: string;
};

// Each test checks the problems of its own requests.
const problems: string[] = [];
let problemCount = 0;
let sent = 0;
const statuses = new Map<number, number>();

/** Sends one request and checks the answer: no 5xx, and a 4xx is the error shape or an error page. */
async function check(req: Req, browser?: AdminBrowser) {
  const url = `${req.base ?? env("STORE_URL")}${req.path}`;
  const headers: Record<string, string> = { ...req.headers };
  if (browser) headers.Cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers,
      body: req.body as BodyInit | undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    // A request fetch itself refuses to send (e.g. a malformed URL) is not the server's answer.
    if (err instanceof TypeError && /invalid|url|header/i.test(err.message)) return;
    problems.push(`${req.method} ${req.path.slice(0, 120)}: ${String(err)}`);
    return;
  }
  const text = await res.text();
  sent++;
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const where = `${req.method} ${req.path.slice(0, 120)} → ${res.status}`;
  if (res.status >= 500) problems.push(`${where}: ${text.slice(0, 200)}`);
  // A HEAD answer has no body to check.
  if (res.status >= 400 && req.method !== "HEAD") {
    const type = res.headers.get("content-type") ?? "";
    if (!res.headers.get("x-served-by")) {
      // HAProxy's own refusal (request too large, malformed): 4xx, no app involved.
      return;
    }
    if (type.startsWith("application/json")) {
      let body: { error?: { code?: unknown; message?: unknown } } = {};
      try {
        body = JSON.parse(text);
      } catch {
        problems.push(`${where}: JSON error that does not parse`);
      }
      if (body.error?.code !== res.status || typeof body.error?.message !== "string") {
        problems.push(`${where}: not the error shape: ${text.slice(0, 200)}`);
      }
    } else if (!type.startsWith("text/html") || !text.includes("</html>")) {
      problems.push(`${where}: neither the JSON error shape nor an error page (${type})`);
    }
  }
}

const run = <T>(arb: fc.Arbitrary<T>, send: (v: T) => Promise<void>, numRuns = RUNS) =>
  fc.assert(
    fc.asyncProperty(arb, async (v) => {
      await send(v);
      return true;
    }),
    { numRuns, endOnFailure: true },
  );

let before = "";
let admin: AdminBrowser;
let csrf = "";
let loginCounter = 0;

beforeAll(async () => {
  await restoreAll();
  before = await dataChecksum();
  admin = await adminBrowser();
  csrf = await admin.token();
});

beforeEach(() => {
  problems.length = 0;
});
afterEach(() => {
  problemCount += problems.length;
});
afterAll(() => {
  console.log(
    `[reliability] ${
      JSON.stringify({
        case: "fuzz",
        requests: sent,
        statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
        problems: problemCount,
      })
    }`,
  );
});

describe("hostile input", () => {
  test("public JSON API: POST /orders with hostile bodies, content types and headers", async () => {
    await run(
      fc.tuple(jsonBody, contentType, accept, junkHeaders),
      ([body, type, acc, extra]) =>
        check({
          method: "POST",
          path: "/orders",
          body,
          headers: { ...extra, "Content-Type": type, Accept: acc },
        }),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  test("public pages and JSON: hostile paths, query strings and headers on every GET route", async () => {
    const route = fc.oneof(
      pathSegment.map((s) => `/products/${s}`),
      pathSegment.map((s) => `/orders/${s}`),
      query.map((q) => `/orders?${q}`),
      query.map((q) => `/?${q}`),
      fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join("/")}`),
      query.map((q) => `/healthz?${q}`),
      pathSegment.map((s) => `/static/${s}`),
    );
    await run(
      fc.tuple(
        route,
        accept,
        junkHeaders,
        fc.constantFrom("GET", "HEAD", "DELETE", "PUT", "PATCH", "OPTIONS"),
      ),
      ([path, acc, extra, method]) => check({ method, path, headers: { ...extra, Accept: acc } }),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  test("the buy form: hostile fields, repeated keys, wrong origins", async () => {
    const form = formBody({ name: hostile, quantity: badFormNumber });
    await run(fc.tuple(form, fc.constantFrom("same", "none", "evil")), ([body, origin]) =>
      check({
        method: "POST",
        path: "/buy",
        body,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "text/html",
          ...(origin === "same"
            ? { Origin: new URL(env("STORE_URL")).origin }
            : origin === "evil"
            ? { Origin: "http://evil.example" }
            : {}),
        },
      }));
    expect(problems).toEqual([]);
  }, 60_000);

  test("admin, not signed in: every page and form, with hostile fields and cookies", async () => {
    const route = fc.oneof(
      fc.constantFrom(
        "/admin",
        "/admin/",
        "/admin/orders",
        "/admin/items/delete",
        "/admin/login",
        "/admin/logout",
        "/admin/items",
        "/admin/items/correct",
      ),
      pathSegment.map((s) => `/admin/${s}`),
      query.map((q) => `/admin/orders?${q}`),
    );
    const body = formBody({ name: hostile, quantity: badFormNumber, price: badFormNumber, _csrf: hostile });
    await run(
      fc.tuple(route, fc.constantFrom("GET", "POST"), body, junkHeaders),
      ([path, method, b, extra]) =>
        // Sign-in attempts would count against the rate limit of the proxy's address: not here.
        path === "/admin/login" && method === "POST" ? Promise.resolve() : check({
          method,
          path,
          body: method === "POST" ? b : undefined,
          headers: {
            ...extra,
            "Content-Type": "application/x-www-form-urlencoded",
            Accept: "text/html",
            Origin: new URL(env("STORE_URL")).origin,
          },
        }),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  test(
    "admin sign-in: hostile user names and passwords, each from an address of its own, straight to an admin server",
    async () => {
      const body = formBody({ user: hostile, password: hostile });
      await run(fc.tuple(body, fc.boolean()), ([b, first]) => {
        const base = first ? env("ADMIN1_URL") : env("ADMIN2_URL");
        loginCounter++;
        return check({
          base,
          method: "POST",
          path: "/admin/login",
          body: b,
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            Accept: "text/html",
            Origin: new URL(base).origin,
            ...asProxied(base, `10.9.${loginCounter >> 8}.${loginCounter & 255}`),
            // A client's own entries before the proxy's.
            "X-Forwarded-For": `198.51.100.${loginCounter % 250}, 10.9.${loginCounter >> 8}.${
              loginCounter & 255
            }`,
          },
        });
      }, 60);
      expect(problems).toEqual([]);
    },
    60_000,
  );

  test("admin, signed in: add, correct and delete with hostile fields and the right CSRF token", async () => {
    const add = formBody({ name: hostile, quantity: badFormQuantity, price: badFormNumber }).map((b) => ({
      path: "/admin/items",
      b,
    }));
    const correct = formBody({
      name: hostile,
      quantity: badFormNumber,
      price: badFormNumber,
      was_quantity: badFormNumber,
      was_price: badFormNumber,
    }).map((b) => ({ path: "/admin/items/correct", b }));
    // Deleting a name no item has: 404, nothing deleted.
    const del = formBody({ name: hostile }).map((b) => ({ path: "/admin/items/delete", b }));
    await run(fc.tuple(fc.oneof(add, correct, del), fc.boolean()), ([{ path, b }, withToken]) =>
      check({
        method: "POST",
        path,
        body: withToken ? `${b}&_csrf=${encodeURIComponent(csrf)}` : b,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "text/html",
          Origin: new URL(env("STORE_URL")).origin,
        },
      }, admin));
    expect(problems).toEqual([]);
  }, 60_000);

  test("admin, signed in: hostile paths and query strings on every page", async () => {
    const route = fc.oneof(
      query.map((q) => `/admin/orders?${q}`),
      query.map((q) => `/admin/items/delete?${q}`),
      hostile.map((n) => `/admin/items/delete?name=${enc(n)}`),
      pathSegment.map((s) => `/admin/${s}`),
      query.map((q) => `/admin?${q}`),
    );
    await run(
      fc.tuple(route, accept),
      ([path, acc]) => check({ method: "GET", path, headers: { Accept: acc } }, admin),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  test("huge bodies and headers: refused with 413/4xx, nothing read to the end", async () => {
    const mb = "x".repeat(1024 * 1024);
    await check({
      method: "POST",
      path: "/orders",
      body: JSON.stringify({ name: mb, quantity: 1 }),
      headers: { "Content-Type": "application/json" },
    });
    await check({
      method: "POST",
      path: "/buy",
      body: `name=${mb}&quantity=1`,
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: new URL(env("STORE_URL")).origin,
        Accept: "text/html",
      },
    });
    await check({
      method: "POST",
      path: "/admin/items",
      body: `name=${mb}&quantity=1&_csrf=${csrf}`,
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: new URL(env("STORE_URL")).origin,
        Accept: "text/html",
      },
    }, admin);
    await check({
      base: env("WEB1_URL"),
      method: "POST",
      path: "/orders",
      body: JSON.stringify({ name: mb, quantity: 1 }),
      headers: { "Content-Type": "application/json" },
    });
    await check({ method: "GET", path: `/products/${"a".repeat(20_000)}` });
    await check({ method: "GET", path: "/", headers: { "X-Junk": "j".repeat(40_000) } });
    const res = await fetch(`${env("STORE_URL")}/orders`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: mb, quantity: 1 }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: 413, message: "request body is larger than 16384 bytes" },
    });
    expect(problems).toEqual([]);
  }, 60_000);

  test(
    "slow clients: a request trickled byte by byte is answered; one never finished is cut off, and neither holds up anyone else",
    async () => {
      const { hostname, port } = new URL(env("STORE_URL"));
      const raw = (bytes: string, delayMs: number, finish: boolean) =>
        new Promise<string>((resolve) => {
          const socket = net.connect({ host: hostname, port: Number(port) });
          let answer = "";
          socket.on("data", (d) => (answer += d.toString("latin1")));
          socket.on("close", () => resolve(answer));
          socket.on("error", () => resolve(answer));
          socket.on("connect", async () => {
            const text = finish ? bytes : bytes.slice(0, -4);
            for (const ch of text) {
              if (socket.destroyed) return;
              socket.write(ch);
              await Bun.sleep(delayMs);
            }
            if (finish) socket.end();
          });
          setTimeout(() => socket.destroy(), 15_000);
        });
      const body = JSON.stringify({ name: "\u00ff' OR 1=1", quantity: 1 });
      const request =
        `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${
          Buffer.byteLength(body)
        }\r\nConnection: close\r\n\r\n${body}`;
      const trickled = raw(request, 8, true);
      // A slowloris: headers that never end. HAProxy drops it after `timeout http-request` (10 s).
      const t0 = performance.now();
      const never = raw("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(200) + "\r\n\r\n", 40, false);
      // Meanwhile everyone else is served as usual.
      for (let i = 0; i < 20; i++) expect((await fetch(`${env("STORE_URL")}/products/Tux`)).status).toBe(200);
      const answer = await trickled;
      expect(answer).toMatch(/^HTTP\/1\.1 404/);
      expect(answer).toContain('{"error":{"code":404,"message":"product not found"}}');
      const cut = await never;
      expect(cut === "" || /^HTTP\/1\.[01] 408/.test(cut)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(15_000);
    },
    30_000,
  );

  test("after all of it, the database is exactly as it was", async () => {
    expect(await dataChecksum()).toBe(before);
  });
});
