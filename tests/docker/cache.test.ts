// The catalogue in Redis on the compose stack (docs/design.md, Cache): reads from
// Redis through SRH's protocol, every write seen at once through the proxy, and the
// same when Redis is flushed or killed under load and when admin-api is cut off from
// the cache by its network — the relay in the api clears for it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import {
  adminLogin,
  compose,
  containerOf,
  inspect,
  load,
  secretFile,
  stack,
  STEP_TIMEOUT,
  STORE,
  until,
  useComposeStack,
} from "./fixture.ts";
import { sh } from "./engine.ts";
import { untilHealthy } from "./stack.ts";

setDefaultTimeout(STEP_TIMEOUT);
// Up once per run, also when this file runs alone.
useComposeStack();

/**
 * A command of redis-cli inside the redis container (the only way in: its network is
 * internal), signed in with the password the secrets service gave it (`password: ""`:
 * without).
 */
const redisCli = (...args: string[]) => redisCliAs(undefined, ...args);
const redisCliAs = (password: string | undefined, ...args: string[]) =>
  compose(stack, [
    "exec",
    "-T",
    "redis",
    "sh",
    "-c",
    `REDISCLI_AUTH="${password ?? "$(cat /run/bazaar-secrets/redis_password)"}" exec redis-cli "$@"`,
    "redis-cli",
    ...args,
  ]).out.trim();

const product = async (name: string) => {
  const res = await fetch(`${STORE}/products/${encodeURIComponent(name)}`);
  return {
    status: res.status,
    body: (await res.json()) as { data?: { name: string; price: number; quantity: number } },
  };
};

async function signedIn() {
  const { user, password } = adminLogin();
  const admin = new AdminBrowser(STORE);
  expect((await admin.login(user, password)).status).toBe(303);
  return admin;
}

/** Adds an item through the admin site; the page's message after the redirect. */
async function addItem(admin: AdminBrowser, name: string, quantity: number, price: string) {
  expect((await admin.submit("/admin/items", { name, quantity: String(quantity), price })).status).toBe(303);
  return (await (await admin.get("/admin")).text()).match(/<div class="alert[^>]*>([^<]*)</)?.[1] ?? "";
}

describe("Redis's password", () => {
  test("Redis refuses a client without it; the cache reaches Redis with it (tokens.json); redis-server is not root", () => {
    expect(redisCliAs("", "GET", "catalog:gen")).toContain("NOAUTH");
    // A wrong one: redis-cli's AUTH fails (WRONGPASS, on stderr), and the command is NOAUTH.
    expect(redisCliAs("wrong-password", "PING")).toContain("NOAUTH");
    expect(redisCli("PING")).toBe("PONG");
    const tokens = JSON.parse(secretFile("cache", "tokens.json")) as Record<
      string,
      { connection_string: string }
    >;
    const password = secretFile("redis", "redis_password");
    expect(Object.values(tokens).map((t) => t.connection_string)).toEqual([
      `redis://:${password}@redis:6379`,
    ]);
    expect(compose(stack, ["exec", "-T", "redis", "sh", "-c", "cat /proc/1/status"]).out).not.toMatch(
      /^Uid:\s+0\b/m,
    );
  });
});

describe("the catalogue in Redis", () => {
  test("reads fill Redis under catalog: keys, the relay's freshness mark is there, and a write is seen at once", async () => {
    for (let i = 0; i < 3; i++) expect((await product("Tux")).status).toBe(200);
    expect(redisCli("EXISTS", "catalog:fresh")).toBe("1");
    expect(redisCli("GET", "catalog:item:tux:v")).toMatch(/^\d+\|\d+\|\d+\|\{"name":"Tux"/);
    const admin = await signedIn();
    const name = `Cached-${Date.now()}`;
    expect(await addItem(admin, name, 5, "2.50")).toContain(`Added ${name}`);
    expect((await product(name)).body.data).toEqual({ name, price: 2.5, quantity: 5 });
    expect(await addItem(admin, name, 3, "")).toContain(`Restocked ${name}: 5 → 8`);
    expect((await product(name)).body.data?.quantity).toBe(8);
  });

  test("FLUSHALL and docker kill of Redis under load: no failed read, and no value from before a write", async () => {
    const admin = await signedIn();
    const name = `Flushed-${Date.now()}`;
    await addItem(admin, name, 50, "12.49");
    const reads = load(`/products/${name}`, 4);
    try {
      await Bun.sleep(500);
      redisCli("FLUSHALL");
      await Bun.sleep(500);
      expect(await addItem(admin, name, 1, "")).toContain("Restocked");
      expect((await product(name)).body.data?.quantity).toBe(51);
      sh(["docker", "kill", containerOf(stack, "redis")]);
      // A write while Redis is away: admin-api waits for the relay's bound and says so.
      expect(await addItem(admin, name, 1, "")).toContain("its relay cleared it before this answer");
      expect((await product(name)).body.data?.quantity).toBe(52);
      compose(stack, ["start", "redis"]);
      await untilHealthy(stack, ["redis"]);
      await until(() => redisCli("EXISTS", "catalog:fresh") === "1", 30_000, "the relay's mark back");
      await Bun.sleep(500);
    } finally {
      if (inspect(containerOf(stack, "redis")).State.Status !== "running") compose(stack, ["start", "redis"]);
      await untilHealthy(stack, ["redis"]);
      const results = await reads.stop();
      const failed = results.filter((r) => r.status !== 200);
      expect({ reads: results.length, failed: failed.slice(0, 5) }).toMatchObject({ failed: [] });
    }
    expect((await product(name)).body.data?.quantity).toBe(52);
  });

  test("admin-api cut off from the cache by its network: the write waits for the relay, says so, and every read shows it", async () => {
    const admin = await signedIn();
    const name = `Partitioned-${Date.now()}`;
    await addItem(admin, name, 10, "12.49");
    expect((await product(name)).body.data?.price).toBe(12.49); // cached
    const container = containerOf(stack, "admin-api");
    const network = Object.keys(inspect(container).NetworkSettings.Networks).find((n) =>
      n.endsWith("admin-api-cache")
    )!;
    sh(["docker", "network", "disconnect", network, container]);
    try {
      expect(await addItem(admin, name, 5, "")).toContain("its relay cleared it before this answer");
      for (let i = 0; i < 4; i++) {
        expect((await product(name)).body.data).toMatchObject({ price: 12.49, quantity: 15 });
      }
    } finally {
      sh(["docker", "network", "connect", network, container]);
    }
  });

  test("a price changed between the page and the purchase is refused with the new price, nothing bought", async () => {
    const admin = await signedIn();
    const name = `Repriced-${Date.now()}`;
    await addItem(admin, name, 10, "12.49");
    const page = await (await fetch(`${STORE}/?q=${name}`, { headers: { Accept: "text/html" } })).text();
    expect(page).toContain('<input type="hidden" name="price" value="12.49"/>');
    // The admin corrects the price in its row (the page showed 12.49).
    expect(
      (await admin.submit("/admin/items/correct", {
        name,
        quantity: "10",
        was_quantity: "10",
        price: "13.99",
        was_price: "12.49",
      })).status,
    ).toBe(303);
    const res = await fetch(`${STORE}/buy`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: STORE },
      body: new URLSearchParams({ name, quantity: "1", price: "12.49" }).toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("changed from $12.49 to $13.99");
    expect((await product(name)).body.data?.quantity).toBe(10);
  });
});
