// The admin site in a real browser: sign in, add an item, read the
// message, and find the item on the storefront.
import { expect, test } from "bun:test";
import { env } from "../system/stack.ts";
import { DESKTOP, PHONE, shoot, unique, useBrowser } from "./browser.ts";

const ctx = useBrowser();

test("the admin signs in, adds an item, sees the message, and the storefront then shows it", async () => {
  const context = await ctx.browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  try {
    // Without a session, /admin is the sign-in page.
    await page.goto(`${env("STORE_URL")}/admin`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    expect(await page.locator(".served-by").textContent()).toMatch(/ · admin-[12]$/);
    await page.getByLabel("User name").fill(env("ADMIN_USER"));
    await page.getByLabel("Password").fill(env("ADMIN_PASSWORD"));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.pathname === "/admin");
    expect(await page.getByRole("heading", { name: "Inventory" }).isVisible()).toBe(true);

    const name = unique("Spinning Top");
    await page.locator("#add-name").fill(name);
    await page.locator("#add-quantity").fill("12");
    await page.locator("#add-price").fill("7.25");
    await page.getByRole("button", { name: "Save item" }).click();
    await page.waitForURL((u) => u.pathname === "/admin");
    const message = page.locator(".alert-success");
    expect(await message.textContent()).toBe(`Added ${name}: 12 at $7.25`);
    expect(await page.locator("td.name", { hasText: name }).isVisible()).toBe(true);
    await shoot(page, "admin");

    // Restocking by the same name says which happened.
    await page.locator("#add-name").fill(name.toLowerCase());
    await page.locator("#add-quantity").fill("3");
    await page.getByRole("button", { name: "Save item" }).click();
    await page.waitForURL((u) => u.pathname === "/admin");
    expect(await page.locator(".alert-success").textContent()).toBe(`Restocked ${name}: 12 → 15`);

    // The phone layout of the admin page, for the README.
    await page.setViewportSize(PHONE);
    await shoot(page, "admin-phone", false);
    await page.setViewportSize(DESKTOP);

    // The storefront shows it at once, on whichever web server answers (found by its name: the shop is paged).
    for (let i = 0; i < 2; i++) {
      await page.goto(`${env("STORE_URL")}/?q=${encodeURIComponent(name)}`);
      const card = page.locator(`article[data-item="${name}"]`);
      expect(await card.isVisible()).toBe(true);
      expect(await card.locator(".price").textContent()).toBe("$7.25");
      expect(await card.locator(".badge").textContent()).toBe("15 in stock");
    }

    // A correction from a stale page: the error beside the field leaves a one-word name
    // whole (it was squeezed into "Elepha/nt").
    const word = `Elephant${Date.now().toString(36)}`;
    await page.goto(`${env("STORE_URL")}/admin`);
    await page.locator("#add-name").fill(word);
    await page.locator("#add-quantity").fill("80");
    await page.locator("#add-price").fill("21.30");
    await page.getByRole("button", { name: "Save item" }).click();
    await page.waitForURL((u) => u.pathname === "/admin");
    await page.goto(`${env("STORE_URL")}/admin?q=${word}`);
    const row = page.locator("tr", { has: page.locator("td.name", { hasText: word }) });
    await row.locator("input[name=quantity]").fill("85");
    await fetch(`${env("ADMIN_API_URL")}/items/${word}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ quantity: 70 }), // sold meanwhile
    });
    await row.getByRole("button", { name: "Save" }).click();
    await page.waitForLoadState();
    expect(await page.getByRole("alert").textContent()).toContain(`${word} was not changed`);
    const lines = await page.locator("td.name", { hasText: word }).evaluate((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(lines).toBe(1);
    await fetch(`${env("ADMIN_API_URL")}/items/${word}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}` },
    });

    // Orders page, for the screenshots too.
    await page.goto(`${env("STORE_URL")}/admin/orders`);
    expect(await page.getByRole("heading", { name: "Orders" }).isVisible()).toBe(true);
    await shoot(page, "admin-orders", false);

    // Clean up through the UI: delete asks first.
    await page.goto(`${env("STORE_URL")}/admin/items/delete?name=${encodeURIComponent(name)}`);
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await page.waitForURL((u) => u.pathname === "/admin");
    expect(await page.locator(".alert-success").textContent()).toStartWith(`Deleted ${name}`);
  } finally {
    await context.close();
  }
}, 30_000);
