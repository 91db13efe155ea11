// Sessions and the sign-in limit across two admin servers, in process: two admin apps
// on one admin-api stand-in (admin-api's own session and limit code, over an in-memory
// Redis), as admin-1 and admin-2 share one admin-api.
import { describe, expect, test } from "bun:test";
import { forwardedHeaders } from "@bazaar/lib/forwarded.ts";
import { createApp } from "./app.ts";
import { fakeAdminApi } from "@bazaar/testutil/fake-admin-api.ts";
import { AdminBrowser } from "@bazaar/testutil/admin-browser.ts";

const ORIGIN = "http://localhost";
const SECRET = "s".repeat(40);
const PASSWORD = "correct horse";
/** The key the proxy signs a client's address and host with (REQUEST_ID_KEY). */
const PROXY_KEY = "p".repeat(40);

type Config = { password?: string; secret?: string; user?: string };

function adminServer(
  fake: ReturnType<typeof fakeAdminApi>,
  name: string,
  { password = PASSWORD, secret = SECRET, user = "admin" }: Config = {},
) {
  return createApp({
    adminApi: fake.client,
    identity: `host · ${name}`,
    credentials: { user, password },
    sessionSecret: secret,
    cookieSecure: false,
    proxyKey: PROXY_KEY,
    log: () => {},
  });
}

type App = ReturnType<typeof adminServer>;

class Browser extends AdminBrowser {
  constructor(app: App, ip = "10.0.0.1") {
    super(
      ORIGIN,
      (url, init) => app.request(url, init),
      forwardedHeaders(PROXY_KEY, { address: ip, proto: "http", host: "localhost" }),
    );
  }
  /** The same cookies, sent to another server (or a restarted one). */
  on(app: App, ip = "10.0.0.1") {
    const b = new Browser(app, ip);
    b.cookies = new Map(this.cookies);
    return b;
  }
}

function twoServers() {
  const fake = fakeAdminApi([{ name: "Tux", quantity: 100, price: 15.99 }]);
  return { fake, admin1: adminServer(fake, "admin-1"), admin2: adminServer(fake, "admin-2") };
}

const signedIn = async (app: App, ip?: string) => {
  const b = new Browser(app, ip);
  expect((await b.login("admin", PASSWORD)).status).toBe(303);
  expect((await b.get("/admin")).status).toBe(200);
  return b;
};

/** The old cookie replayed: the dashboard sends it to the login, a write is refused and changes nothing. */
async function refused(b: Browser, token: string, fake: ReturnType<typeof fakeAdminApi>) {
  const page = await b.get("/admin");
  expect(page.status).toBe(303);
  expect(page.headers.get("location")).toBe("/admin/login");
  const write = await b.post("/admin/items", { name: "Tux", quantity: "5", price: "", _csrf: token });
  expect(write.status).toBe(401);
  expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(100);
}

describe("a session ends on the server", () => {
  test("after signing out on admin-1, the old cookie is refused by admin-1 and admin-2, for pages and writes", async () => {
    const { fake, admin1, admin2 } = twoServers();
    const b = await signedIn(admin1);
    const token = await b.token();
    const saved = new Map(b.cookies);
    expect((await b.on(admin2).get("/admin")).status).toBe(200); // shared: admin-2 knows it
    expect((await b.post("/admin/logout", { _csrf: token })).status).toBe(303);
    for (const app of [admin1, admin2]) {
      const replay = new Browser(app);
      replay.cookies = new Map(saved);
      await refused(replay, token, fake);
    }
  });

  test("signing out ends only that session, not another one", async () => {
    const { admin1, admin2 } = twoServers();
    const laptop = await signedIn(admin1);
    const phone = await signedIn(admin2);
    await laptop.post("/admin/logout", { _csrf: await laptop.token() });
    expect((await phone.get("/admin")).status).toBe(200);
    expect((await phone.on(admin1).get("/admin")).status).toBe(200);
  });

  test("admin servers restarted with a new ADMIN_PASSWORD end every older session", async () => {
    const { fake, admin1 } = twoServers();
    const b = await signedIn(admin1);
    const token = await b.token();
    const restarted = [
      adminServer(fake, "admin-1", { password: "a new password" }),
      adminServer(fake, "admin-2", { password: "a new password" }),
    ];
    for (const app of restarted) await refused(b.on(app), token, fake);
    // The new password signs in, and that session works on both.
    const fresh = new Browser(restarted[0]!);
    expect((await fresh.login("admin", "a new password")).status).toBe(303);
    expect((await fresh.on(restarted[1]!).get("/admin")).status).toBe(200);
  });

  test("a new ADMIN_USER ends older sessions too", async () => {
    const { fake, admin1 } = twoServers();
    const b = await signedIn(admin1);
    await refused(b.on(adminServer(fake, "admin-1", { user: "owner" })), await b.token(), fake);
  });

  test("admin servers restarted with a new SESSION_SECRET end every older session", async () => {
    const { fake, admin1 } = twoServers();
    const b = await signedIn(admin1);
    const token = await b.token();
    for (const name of ["admin-1", "admin-2"]) {
      await refused(b.on(adminServer(fake, name, { secret: "n".repeat(40) })), token, fake);
    }
  });

  test("an admin server restarted with the same configuration keeps the sessions", async () => {
    const { fake, admin1 } = twoServers();
    const b = await signedIn(admin1);
    expect((await b.on(adminServer(fake, "admin-1")).get("/admin")).status).toBe(200);
  });

  test("the cookie holds only a signed session id: no user, no token, no expiry a client could change", async () => {
    const { admin1 } = twoServers();
    const b = await signedIn(admin1);
    const value = decodeURIComponent(b.cookies.get("bazaar_admin")!);
    expect(value).toMatch(/^[A-Za-z0-9_-]{40,}\.[A-Za-z0-9+/=]+$/);
    expect(value).not.toContain(await b.token());
  });

  test("the login page still shows when admin-api cannot be reached", async () => {
    const { fake, admin1 } = twoServers();
    const b = await signedIn(admin1);
    fake.state.mode = "down";
    expect((await b.get("/admin/login")).status).toBe(200);
    expect((await b.get("/admin")).status).toBe(503);
  });
});

describe("the sign-in limit is shared by both admin servers", () => {
  test("5 failures from one address, spread over admin-1 and admin-2, and that address waits on both", async () => {
    const { admin1, admin2 } = twoServers();
    for (let i = 0; i < 5; i++) {
      expect((await new Browser(i % 2 ? admin2 : admin1, "203.0.113.5").login("admin", `guess-${i}`)).status)
        .toBe(401);
    }
    for (const app of [admin1, admin2]) {
      const res = await new Browser(app, "203.0.113.5").login("admin", PASSWORD);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  test("the flood of docs/reliability.md: 48 wrong passwords from 8 addresses over both servers are throttled, and the owner from a 9th address gets in", async () => {
    const { admin1, admin2 } = twoServers();
    const statuses: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (let a = 2; a <= 9; a++) {
        const app = (round + a) % 2 ? admin1 : admin2;
        statuses.push((await new Browser(app, `127.0.0.${a}`).login("admin", `guess-${round}-${a}`)).status);
      }
    }
    // One account limit for both servers: 20 wrong answers in all (not 20 each), the rest wait.
    expect(statuses.filter((s) => s === 401).length).toBe(20);
    expect(statuses.filter((s) => s === 429).length).toBe(28);
    expect((await new Browser(admin1, "127.0.0.2").login("admin", PASSWORD)).status).toBe(429);
    for (const app of [admin1, admin2]) {
      const owner = new Browser(app, "127.0.0.10");
      expect((await owner.login("admin", PASSWORD)).status).toBe(303);
      expect((await owner.get("/admin")).status).toBe(200);
    }
  });
});
