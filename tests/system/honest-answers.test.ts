// Answers that tell the truth about what happened (issue 13, points 4, 7 and 9):
// a purchase that meets a held row lock, a correction made from a stale page, and a
// request id forged by a client that reaches a web server directly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { AdminBrowser } from "../../admin/src/test-client.ts";
import { dbQuantity } from "./helpers.ts";
import { buy, postForm, store, unescapeHtml } from "./http.ts";
import { env } from "./stack.ts";

const unique = (base: string) => `${base} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const adminApi = (path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${env("ADMIN_API_URL")}${path}`, {
    method: init.method ?? "GET",
    headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}`, "Content-Type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

async function createItem(name: string, quantity: number, price = 5) {
  const res = await adminApi("/items", { method: "POST", body: { name, quantity, price } });
  expect(res.status).toBe(201);
}

const itemInDb = async (name: string) => {
  const res = await adminApi("/items");
  const { data } = (await res.json()) as { data: { name: string; quantity: number; price: number }[] };
  return data.find((i) => i.name === name);
};

let admin: AdminBrowser;
beforeAll(async () => {
  admin = new AdminBrowser(store());
  expect((await admin.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"))).status).toBe(303);
});

describe("a correction from a stale page (optimistic concurrency)", () => {
  test("admin-api: a quantity or price correction whose was_* no longer holds is 409 with the current value, and nothing changes", async () => {
    const name = unique("Whale");
    await createItem(name, 80, 24.5);
    // 10 sold while the admin looked at 80.
    expect((await buy({ name, quantity: 10 })).status).toBe(200);
    const stale = await adminApi(`/items/${encodeURIComponent(name)}`, { method: "PATCH", body: { quantity: 85, was_quantity: 80 } });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toEqual({
      error: {
        code: 409,
        message: `${name} was not changed: its quantity is 70 now, not 80: it changed meanwhile (sold or corrected)`,
        fields: { quantity: "is 70 now, not 80: it changed meanwhile (sold or corrected)" },
      },
    });
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 24.5 });
    const stalePrice = await adminApi(`/items/${encodeURIComponent(name)}`, { method: "PATCH", body: { price: 30, was_price: 20 } });
    expect(stalePrice.status).toBe(409);
    expect(((await stalePrice.json()) as { error: { fields: unknown } }).error.fields).toEqual({ price: "is 24.50 now, not 20.00: it changed meanwhile" });
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 24.5 });
    // With the values it has now, the correction applies.
    const ok = await adminApi(`/items/${encodeURIComponent(name)}`, { method: "PATCH", body: { quantity: 85, was_quantity: 70, price: 30, was_price: 24.5 } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { name, quantity: 85, price: 30 } });
    expect(await dbQuantity(name)).toBe(85);
  });

  test("admin site: the page showed 80, 10 sold, 'quantity 85' is refused naming 70; the notice never says 80 → 85", async () => {
    const name = unique("Whale");
    await createItem(name, 80, 24.5);
    const token = await admin.token();
    expect((await buy({ name, quantity: 10 })).status).toBe(200);
    const res = await admin.post("/admin/items/correct", { name, quantity: "85", was_quantity: "80", price: "24.50", was_price: "24.50", _csrf: token });
    expect(res.status).toBe(409);
    const html = unescapeHtml(await res.text());
    expect(html).toContain(`${name} was not changed: its quantity is 70 now, not 80`);
    expect(html).toContain("Nothing was saved");
    expect(html).not.toContain("80 → 85");
    expect(await dbQuantity(name)).toBe(70);
    // A price fix from the same stale page still applies: only what changed is checked.
    const price = await admin.submit("/admin/items/correct", { name, quantity: "80", was_quantity: "80", price: "26.00", was_price: "24.50" });
    expect(price.status).toBe(303);
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 26 });
    // From a current page (the table now shows 70), the correction applies and says so truly.
    const fresh = await admin.submit("/admin/items/correct", { name, quantity: "85", was_quantity: "70", price: "26.00", was_price: "26.00" });
    expect(fresh.status).toBe(303);
    const page = unescapeHtml(await (await admin.get("/admin")).text());
    expect(page).toContain(`Updated ${name}: quantity 70 → 85`);
    expect(await dbQuantity(name)).toBe(85);
  });
});
