// Admin sessions end on the server, a flood of wrong passwords does not lock the
// owner out and guesses are bounded however many addresses they claim, and no session
// secret reaches a log when Redis fails (docs/reliability.md, bugs found), against the
// running stack: both admin servers straight at their ports and through the proxy. The
// sessions and the sign-in limit live in admin-api (admin-api/src/sessions.ts,
// logins.ts), shared by admin-1 and admin-2; the unit tests beside that code cover the rest.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { sessionFingerprint } from "../../admin/src/session.ts";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { uniqueName } from "../../testutil/src/test-stack.ts";
import {
  asProxied,
  buy,
  createItem,
  dbQuantity,
  productVia,
  record,
  restore,
  signInAttempt,
} from "./helpers.ts";
import { env, eventually, servedBy, stack } from "./stack.ts";

const bases = () => ({ "admin-1": env("ADMIN1_URL"), "admin-2": env("ADMIN2_URL"), proxy: env("STORE_URL") });

async function signIn(base = env("STORE_URL"), password = env("ADMIN_PASSWORD")) {
  const b = new AdminBrowser(base);
  const res = await b.login(env("ADMIN_USER"), password);
  expect(res.status).toBe(303);
  return b;
}

/** The same cookies, sent to another base (the cookie's Path is /admin on every one). */
const replay = (cookies: Map<string, string>, base: string) => {
  const b = new AdminBrowser(base);
  b.cookies = new Map(cookies);
  return b;
};

/** The old cookie is no session anywhere: every page goes to the login, a write is 401 and changes nothing. */
async function refusedEverywhere(cookies: Map<string, string>, token: string, item: string) {
  const before = await dbQuantity(item);
  for (const [where, base] of Object.entries(bases())) {
    const b = replay(cookies, base);
    const page = await b.get("/admin");
    expect(page.status, `${where}: GET /admin`).toBe(303);
    expect(page.headers.get("location")).toBe("/admin/login");
    const write = await b.post("/admin/items", { name: item, quantity: "5", price: "", _csrf: token });
    expect(write.status, `${where}: restock with the old cookie`).toBe(401);
  }
  expect(await dbQuantity(item)).toBe(before);
}

/** The session works on both servers and through the proxy. */
async function acceptedEverywhere(cookies: Map<string, string>) {
  for (const [where, base] of Object.entries(bases())) {
    expect((await replay(cookies, base).get("/admin")).status, where).toBe(200);
  }
}

/** Restarts both admin servers with these variables and waits until HAProxy has them. */
async function restartAdmins(vars: Record<string, string>) {
  for (const name of ["admin-1", "admin-2"]) {
    stack().setEnv(name, vars);
    await stack().restart(name);
    await restore(name);
  }
}

describe("a session ends on the server", () => {
  test("signed out through the proxy: the old cookie replayed at admin-1, admin-2 and the proxy reads nothing and writes nothing", async () => {
    const item = uniqueName("Session replay");
    await createItem(item, 10);
    const b = await signIn();
    const token = await b.token();
    await acceptedEverywhere(b.cookies);
    const saved = new Map(b.cookies);
    const out = await b.submit("/admin/logout", {});
    expect(out.status).toBe(303);
    await refusedEverywhere(saved, token, item);
    record({
      case: "logout, then the old cookie replayed",
      servers: "admin-1, admin-2, proxy",
      outcome: "303 to the login; a restock 401, nothing changed",
    });
  });

  test("signed out on admin-2 directly: refused on admin-1 too; another session of the same user is untouched", async () => {
    const item = uniqueName("Session replay 2");
    await createItem(item, 10);
    const b = await signIn(env("ADMIN2_URL"));
    const other = await signIn(env("ADMIN1_URL"));
    const token = await b.token();
    const saved = new Map(b.cookies);
    expect((await b.submit("/admin/logout", {})).status).toBe(303);
    await refusedEverywhere(saved, token, item);
    await acceptedEverywhere(other.cookies);
  });

  test(
    "admin-api restarted: sessions are kept (Redis holds a copy), and one ended before is still ended",
    async () => {
      const item = uniqueName("Session api restart");
      await createItem(item, 10);
      const kept = await signIn();
      const ended = await signIn();
      const token = await ended.token();
      const saved = new Map(ended.cookies);
      await ended.submit("/admin/logout", {});
      const pid = stack().pid("admin-api");
      await stack().restart("admin-api");
      await restore("admin-api");
      expect(stack().pid("admin-api")).not.toBe(pid);
      await acceptedEverywhere(kept.cookies);
      await refusedEverywhere(saved, token, item);
    },
    30_000,
  );

  test(
    "Redis stopped: a session from before keeps working on both servers, signing out still ends it everywhere, signing in works",
    async () => {
      const item = uniqueName("Session no redis");
      await createItem(item, 10);
      const before = await signIn();
      const ending = await signIn();
      const token = await ending.token();
      try {
        await stack().stop("redis");
        await acceptedEverywhere(before.cookies);
        const saved = new Map(ending.cookies);
        expect((await ending.submit("/admin/logout", {})).status).toBe(303);
        await refusedEverywhere(saved, token, item);
        const during = await signIn();
        await acceptedEverywhere(during.cookies);
        expect((await during.submit("/admin/items", { name: item, quantity: "1", price: "" })).status).toBe(
          303,
        );
      } finally {
        await restore("redis");
      }
      await acceptedEverywhere(before.cookies);
    },
    30_000,
  );

  test(
    "both admin servers restarted with a new SESSION_SECRET: every older session is refused, on both and through the proxy",
    async () => {
      const item = uniqueName("Session secret");
      await createItem(item, 10);
      const b = await signIn();
      const token = await b.token();
      try {
        await restartAdmins({ SESSION_SECRET: `rotated-${crypto.randomUUID()}-${crypto.randomUUID()}` });
        await refusedEverywhere(b.cookies, token, item);
        await acceptedEverywhere((await signIn()).cookies);
      } finally {
        await restartAdmins({ SESSION_SECRET: env("SESSION_SECRET") });
      }
      record({
        case: "admin-1 and admin-2 restarted with a new SESSION_SECRET",
        outcome: "every older session 303 to the login, a restock 401",
      });
    },
    90_000,
  );

  test(
    "both admin servers restarted with a new ADMIN_PASSWORD: every older session is refused; the new password signs in",
    async () => {
      const item = uniqueName("Session password");
      await createItem(item, 10);
      const b = await signIn();
      const token = await b.token();
      const password = `changed-${crypto.randomUUID()}`;
      try {
        await restartAdmins({ ADMIN_PASSWORD: password });
        await refusedEverywhere(b.cookies, token, item);
        expect(
          (await new AdminBrowser(env("STORE_URL")).login(env("ADMIN_USER"), env("ADMIN_PASSWORD"))).status,
        ).toBe(401);
        await acceptedEverywhere((await signIn(env("STORE_URL"), password)).cookies);
      } finally {
        await restartAdmins({ ADMIN_PASSWORD: env("ADMIN_PASSWORD") });
      }
      await acceptedEverywhere((await signIn()).cookies);
      record({
        case: "admin-1 and admin-2 restarted with a new ADMIN_PASSWORD",
        outcome: "every older session 303 to the login, a restock 401; the new password signs in",
      });
    },
    90_000,
  );
});

/**
 * One sign-in through the proxy from a loopback address of our own (all of 127/8 is
 * loopback on Linux): HAProxy puts that address in X-Forwarded-For, as it would a
 * real client's. A raw HTTP/1.1 exchange, since fetch cannot choose its source address.
 */
function signInFrom(localAddress: string, password: string) {
  const url = new URL(env("STORE_URL"));
  const body = new URLSearchParams({ user: env("ADMIN_USER"), password }).toString();
  const request = [
    "POST /admin/login HTTP/1.1",
    `Host: ${url.host}`,
    `Origin: ${url.origin}`,
    "Content-Type: application/x-www-form-urlencoded",
    "Accept: text/html",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
  return new Promise<{ status: number; headers: Headers }>((resolve, reject) => {
    const socket = net.connect(
      { host: url.hostname, port: Number(url.port), localAddress },
      () => socket.write(request),
    );
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (text += d));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = new Headers();
      for (const line of lines) {
        const at = line.indexOf(":");
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers });
    });
  });
}

/** A browser holding the session cookie of a raw sign-in. */
const browserWith = (headers: Headers) => {
  const b = new AdminBrowser(env("STORE_URL"));
  for (const line of headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const eq = pair.indexOf("=");
    b.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return b;
};

describe("a flood of wrong passwords does not lock the owner out", () => {
  test(
    "48 wrong passwords from 8 loopback addresses through the proxy: throttled (20 'wrong' in all, over both servers), the owner from a 9th address gets in",
    async () => {
      // From a known start: admin-api's memory holds the limit, and earlier tests may
      // have failed a sign-in for this account within the minute.
      await stack().restart("admin-api");
      await restore("admin-api");
      const statuses: number[] = [];
      const servers = new Set<string>();
      try {
        for (let round = 0; round < 6; round++) {
          for (let a = 2; a <= 9; a++) {
            const res = await signInFrom(`127.0.0.${a}`, `wrong-${round}-${a}`);
            statuses.push(res.status);
            const who = servedBy(new Response(null, { headers: res.headers }));
            if (who) servers.add(who);
          }
        }
        // Round robin: both admin servers took the flood, and one limit held for both.
        expect(servers).toEqual(new Set(["admin-1", "admin-2"]));
        expect(statuses.filter((s) => s === 401).length).toBe(20);
        expect(statuses.filter((s) => s === 429).length).toBe(28);
        expect(statuses.slice(-8)).toEqual(Array(8).fill(429));
        // A flooding address waits even with the right password…
        const flooder = await signInFrom("127.0.0.2", env("ADMIN_PASSWORD"));
        expect(flooder.status).toBe(429);
        expect(Number(flooder.headers.get("retry-after"))).toBeGreaterThan(0);
        // …and the owner, from an address with no failures, gets in while the flood is on.
        const owner = await signInFrom("127.0.0.10", env("ADMIN_PASSWORD"));
        expect(owner.status).toBe(303);
        expect(owner.headers.get("location")).toBe("/admin");
        const admin = browserWith(owner.headers);
        for (let i = 0; i < 4; i++) expect((await admin.get("/admin")).status).toBe(200);
        // Still on: another wrong guess from a fresh address is not even answered "wrong".
        expect((await signInFrom("127.0.0.11", "one more guess")).status).toBe(429);
        record({
          case:
            "48 wrong passwords from 8 loopback addresses through the proxy, then the right one from a 9th",
          wrong_401: statuses.filter((s) => s === 401).length,
          throttled_429: statuses.filter((s) => s === 429).length,
          servers: [...servers].sort().join(", "),
          owner: owner.status,
        });
      } finally {
        // The limit is kept in admin-api's memory: a restart forgets the flood, so the
        // account is not left limited for the test files after this one.
        await stack().restart("admin-api");
        await restore("admin-api");
      }
    },
    60_000,
  );

  test("5 wrong passwords from one address spread over admin-1 and admin-2: that address waits on both", async () => {
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    const attempt = (base: string, password: string) => signInAttempt(base, password, asProxied(base, ip));
    for (let i = 0; i < 5; i++) {
      expect((await attempt(i % 2 ? env("ADMIN2_URL") : env("ADMIN1_URL"), `wrong-${i}`)).status).toBe(401);
    }
    for (const base of [env("ADMIN1_URL"), env("ADMIN2_URL")]) {
      const res = await attempt(base, env("ADMIN_PASSWORD"));
      expect(res.status).toBe(429);
      expect(await res.text()).toContain("Too many failed sign-ins");
    }
  });
});

/** admin-api restarted: its memory, where the sign-in limit lives, starts empty. */
async function restartAdminApi() {
  await stack().restart("admin-api");
  await restore("admin-api");
}

describe("a client's own X-Forwarded-* headers count for nothing", () => {
  test(
    "straight to admin-1, 120 wrong passwords each with a new X-Forwarded-For: 5 are checked, then all wait, the right password with yet another one too; through the proxy the owner gets in",
    async () => {
      // Before, each made-up address had a guess of its own: the right password got in.
      await restartAdminApi();
      try {
        const base = env("ADMIN1_URL");
        const attempt = (password: string, ip: string) =>
          signInAttempt(base, password, { "X-Forwarded-For": ip });
        const statuses: number[] = [];
        for (let i = 0; i < 120; i++) {
          statuses.push((await attempt(`wrong-${i}`, `198.18.${i >> 8}.${i & 255}`)).status);
        }
        expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
        expect(statuses.slice(5)).toEqual(Array(115).fill(429));
        expect((await attempt(env("ADMIN_PASSWORD"), "198.18.200.200")).status).toBe(429);
        // Those were one unverified client: the owner through the proxy is another.
        await acceptedEverywhere((await signIn()).cookies);
        record({
          case:
            "120 wrong passwords straight to admin-1, each with a new X-Forwarded-For, then the right one",
          wrong_401: statuses.filter((s) => s === 401).length,
          throttled_429: statuses.filter((s) => s === 429).length + 1,
        });
      } finally {
        // The unverified client waits a minute: not for the test files after this one.
        await restartAdminApi();
      }
    },
    60_000,
  );

  test("a form from another site that names it in its own X-Forwarded-Host is refused, straight to admin-1 and through the proxy", async () => {
    for (const base of [env("ADMIN1_URL"), env("STORE_URL")]) {
      const res = await fetch(`${base}/admin/login`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: "http://evil.example",
          "X-Forwarded-Host": "evil.example",
          "X-Forwarded-Proto": "http",
        },
        body: new URLSearchParams({ user: env("ADMIN_USER"), password: env("ADMIN_PASSWORD") }).toString(),
      });
      expect({ base, status: res.status }).toEqual({ base, status: 403 });
      expect(res.headers.getSetCookie().some((c) => c.startsWith("bazaar_admin="))).toBe(false);
    }
  });
});

/** A command to the stack's redis-server itself, with its password when it has one (not through the cache endpoint). */
async function redisCli(...args: string[]) {
  const url = new URL(env("REDIS_URL"));
  // REDISCLI_AUTH: the password neither on a command line nor in a URL (redis-cli 7
  // sends an empty user name for redis://:password@, which Redis refuses).
  const p = Bun.spawn(["redis-cli", "-h", url.hostname, "-p", url.port, ...args], {
    env: {
      ...process.env,
      ...(process.env.REDIS_PASSWORD ? { REDISCLI_AUTH: process.env.REDIS_PASSWORD } : {}),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0 || /^(ERR|NOAUTH|WRONGPASS)/m.test(out)) {
    throw new Error(`redis-cli ${args.join(" ")}: ${out}${err}`);
  }
  return out.trim();
}

describe("no secret in any log when Redis refuses writes", () => {
  test(
    "Redis out of memory (maxmemory 1): a sign-in, an admin write, reads and a purchase are logged as failed writes, and no log holds the session's CSRF token, its fingerprint or a command",
    async () => {
      const logDir = stack().logDir;
      const start = new Map(readdirSync(logDir).map((f) => [f, statSync(path.join(logDir, f)).size]));
      /** What each log got since the test began. */
      const since = () =>
        readdirSync(logDir).map((f) => ({
          file: f,
          // Sliced in bytes, as the sizes are: the logs hold names in any script.
          text: readFileSync(path.join(logDir, f)).subarray(start.get(f) ?? 0).toString("utf8"),
        }));
      // A known start: the session store logs the moment Redis fails, once.
      await restartAdminApi();
      const item = uniqueName("Redis full");
      await createItem(item, 10);
      const [, policy] = (await redisCli("CONFIG", "GET", "maxmemory-policy")).split("\n");
      const [, memory] = (await redisCli("CONFIG", "GET", "maxmemory")).split("\n");
      let csrf = "";
      try {
        // No eviction, so the other tests' entries and sessions stay: every write is refused.
        await redisCli("CONFIG", "SET", "maxmemory-policy", "noeviction");
        await redisCli("CONFIG", "SET", "maxmemory", "1");
        const b = await signIn();
        csrf = await b.token();
        expect((await b.submit("/admin/items", { name: item, quantity: "1", price: "" })).status).toBe(303);
        expect((await productVia(env("STORE_URL"), item)).status).toBe(200);
        expect((await buy(env("STORE_URL"), item)).status).toBe(200);
        await eventually(
          () =>
            since().some(({ file, text }) =>
              file === "admin-api.log" && text.includes("session store: Redis write failed")
            ),
          5000,
        );
      } finally {
        await redisCli("CONFIG", "SET", "maxmemory", memory!);
        await redisCli("CONFIG", "SET", "maxmemory-policy", policy!);
      }
      const fingerprint = await sessionFingerprint(env("SESSION_SECRET"), {
        user: env("ADMIN_USER"),
        password: env("ADMIN_PASSWORD"),
      });
      const found: string[] = [];
      for (const { file, text } of since()) {
        for (
          const [what, value] of Object.entries({
            csrf,
            fingerprint,
            command: "command was",
            key: "admin-session:",
          })
        ) {
          if (value && text.includes(value)) found.push(`${file}: ${what}`);
        }
      }
      expect(csrf).not.toBe("");
      expect(found).toEqual([]);
    },
    60_000,
  );
});
