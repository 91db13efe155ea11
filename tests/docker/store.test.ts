// The compose stack on a real engine, through the proxy's published port: every
// service healthy and started in depends_on order, the storefront, the lab's JSON
// API, a purchase, the admin login and a write, and the container hostnames on the
// pages, alternating.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import {
  adminLogin,
  compose,
  containerOf,
  expectPurchaseTakesStock,
  inspect,
  servedBy,
  stack,
  STEP_TIMEOUT,
  STORE,
  useComposeStack,
} from "./fixture.ts";
import { containersOf, ONE_SHOT, services, upEventsFile } from "./stack.ts";

// Per file (Bun applies it to the file that calls it).
setDefaultTimeout(STEP_TIMEOUT);
useComposeStack();

type Resolved = { services: Record<string, { depends_on?: Record<string, { condition: string }> }> };

describe("compose up on a real engine", () => {
  test("every service is running and healthy; the one-shot secrets service exited 0", () => {
    for (const s of services(stack)) {
      for (const id of containersOf(stack, s)) {
        const st = inspect(id).State;
        if (ONE_SHOT.has(s)) {
          expect({ s, status: st.Status, exit: st.ExitCode }).toEqual({ s, status: "exited", exit: 0 });
        } else {expect({ s, status: st.Status, health: st.Health?.Status ?? "none" }).toEqual({
            s,
            status: "running",
            health: st.Health ? "healthy" : "none",
          });}
      }
    }
  });

  test("each service started only after what it depends on was healthy (or done)", () => {
    const resolved = parse(compose(stack, ["config"]).out) as Resolved;
    // The engine's own record of the last up: each container's start, health and exit.
    const events = readFileSync(upEventsFile(stack), "utf8").trim().split("\n").filter(Boolean)
      .map((l) =>
        JSON.parse(l) as { status: string; timeNano: number; Actor: { Attributes: Record<string, string> } }
      );
    const first = (service: string, status: RegExp) =>
      events.find((e) =>
        e.Actor.Attributes["com.docker.compose.service"] === service &&
        e.Actor.Attributes["com.docker.compose.oneoff"] !== "True" && status.test(e.status)
      )?.timeNano;
    let checked = 0;
    for (const [service, def] of Object.entries(resolved.services)) {
      const started = first(service, /^start$/);
      expect({ service, started: started !== undefined }).toEqual({ service, started: true });
      for (const [dep, { condition }] of Object.entries(def.depends_on ?? {})) {
        const ready = condition === "service_healthy"
          ? first(dep, /^health_status: healthy$/)
          : condition === "service_completed_successfully"
          ? first(dep, /^die$/)
          : first(dep, /^start$/);
        expect({ service, dep, condition, readyBeforeStart: ready !== undefined && ready < started! })
          .toEqual({ service, dep, condition, readyBeforeStart: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe("the store through http://127.0.0.1:${HTTP_PORT}", () => {
  test("the storefront lists the seeded toys", async () => {
    const res = await fetch(`${STORE}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const toy of ["Tux", "Fox", "Python"]) expect(html).toContain(toy);
  });

  test("the JSON API answers with the lab's shapes", async () => {
    const tux = await fetch(`${STORE}/products/Tux`);
    expect(tux.status).toBe(200);
    const body = (await tux.json()) as { data: { name: string; price: number; quantity: number } };
    expect(Object.keys(body.data).sort()).toEqual(["name", "price", "quantity"]);
    expect(body.data.name).toBe("Tux");
    const missing = await fetch(`${STORE}/products/No-such-toy`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 404, message: "product not found" } });
  });

  test("a purchase takes the stock down by its quantity and its order can be read", async () => {
    await expectPurchaseTakesStock(STORE, "Fox");
  });

  test("a web replica's published debug port: the same forged X-Request-Id twice is two orders; through the proxy an order is found under the proxy's id", async () => {
    // The port Docker gave the first replica, from the WEB_PORTS range on 127.0.0.1.
    const direct = `http://${compose(stack, ["port", "--index", "1", "web", "8083"]).out.trim()}`;
    const order = async (base: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/orders`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify({ name: "Tux", quantity: 1 }),
      });
      expect(res.status).toBe(200);
      const { data } = (await res.json()) as { data: { order_number: number } };
      return { number: data.order_number, id: res.headers.get("x-request-id")! };
    };
    const forged = { "X-Request-Id": `forged-${Date.now()}`, "X-Request-Id-Sig": "0".repeat(64) };
    const a = await order(direct, forged);
    const b = await order(direct, forged);
    expect(b.number).not.toBe(a.number);
    expect([a.id, b.id]).not.toContain(forged["X-Request-Id"]);
    // The proxy's id is kept (its signature verified with the key both got from the
    // secrets service): the order is recorded under the id the proxy answered.
    const proxied = await order(STORE, forged);
    expect(proxied.id).toMatch(/^[0-9a-f]{32}$/);
    const found = await fetch(`${STORE}/orders?request_id=${proxied.id}`, {
      headers: { Accept: "application/json" },
    });
    expect(found.status).toBe(200);
    expect(((await found.json()) as { data: { number: number } }).data.number).toBe(proxied.number);
  });

  test("the admin signs in with the generated password and adds an item the storefront then shows", async () => {
    const { user, password } = adminLogin();
    const admin = new AdminBrowser(STORE);
    expect((await admin.login(user, "not-the-password")).status).not.toBe(303);
    expect((await admin.login(user, password)).status).toBe(303);
    const name = `Compose-${Date.now()}`;
    const added = await admin.submit("/admin/items", { name, quantity: "7", price: "3.25" });
    expect(added.status).toBeLessThan(400);
    const res = await fetch(`${STORE}/products/${name}`);
    expect(await res.json()).toEqual({ data: { name, price: 3.25, quantity: 7 } });
  });
});

describe("the container hostnames name the server", () => {
  test("pages and X-Served-By name the web replicas' container hostnames, web-1 and web-2 in turn", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${STORE}/`);
      const host = res.headers.get("x-served-by")!;
      // The page's top left shows the same hostname as the header.
      expect(await res.text()).toContain(host);
      seen.push(servedBy(res)!);
    }
    expect(new Set(seen)).toEqual(new Set(["web-1", "web-2"]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  test("the admin site says admin-1 and admin-2 in turn", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(servedBy(await fetch(`${STORE}/admin/login`))!);
    expect(new Set(seen)).toEqual(new Set(["admin-1", "admin-2"]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  test("each API's hostname is its service name; each replica's is its own container's", () => {
    for (const s of ["api", "admin-api"]) expect(inspect(containerOf(stack, s)).Config.Hostname).toBe(s);
    for (const r of ["web-1", "web-2", "admin-1", "admin-2"]) {
      const c = inspect(containerOf(stack, r));
      expect(c.Id.startsWith(c.Config.Hostname)).toBe(true);
    }
  });
});
