// Admin sessions end on the server, and a flood of wrong passwords does not lock the
// owner out (docs/reliability.md, bugs found), against the running stack: both admin servers
// straight at their ports and through the proxy. The sessions and the sign-in limit
// live in admin-api (admin-api/src/sessions.ts, logins.ts), shared by admin-1 and
// admin-2; the unit tests beside that code cover the rest.
import { describe, expect, test } from "bun:test";
import net from "node:net";
import { AdminBrowser } from "../../admin/src/test-client.ts";
import { uniqueName } from "../../lib/src/testing.ts";
import { createItem, dbQuantity, record, restore } from "./helpers.ts";
import { env, servedBy, stack } from "./stack.ts";

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
    const attempt = (base: string, password: string) =>
      fetch(`${base}/admin/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base, "X-Forwarded-For": ip },
        body: new URLSearchParams({ user: env("ADMIN_USER"), password }).toString(),
      });
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
