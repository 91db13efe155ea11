// A buyer in a real browser: picks a quantity on the storefront, buys,
// and lands on the order's page, which can be found again by its number.
import { expect, test } from "bun:test";
import { env } from "../system/stack.ts";
import { DESKTOP, shoot, useBrowser } from "./browser.ts";

const ctx = useBrowser();

test("a buyer buys from the storefront and sees the order page", async () => {
  const page = await ctx.browser.newPage({ viewport: DESKTOP });
  try {
    await page.goto(`${env("STORE_URL")}/`);
    const card = page.locator('article[data-item="Python"]');
    const before = Number((await card.locator(".badge").textContent())!.replace(/\D/g, ""));
    await card.getByLabel("Quantity of Python").fill("2");
    await card.getByRole("button", { name: "Buy now" }).click();
    await page.waitForURL(/\/orders\/\d+$/);
    const number = Number(page.url().match(/\/orders\/(\d+)$/)![1]);
    expect(await page.getByRole("heading", { name: `Order #${number}` }).isVisible()).toBe(true);
    const receipt = (await page.locator(".receipt").innerText()).replace(/\s+/g, " ");
    expect(receipt).toContain("Python");
    expect(receipt).toContain("$19.99");
    expect(receipt).toContain("$39.98");
    expect(await page.locator(".served-by").textContent()).toMatch(/ · web-[12]$/);
    await shoot(page, "order");

    // Back in the shop, the stock went down by two.
    await page.getByRole("link", { name: "Continue shopping" }).click();
    await page.waitForURL((u) => u.pathname === "/");
    expect(await page.locator('article[data-item="Python"] .badge').textContent()).toBe(
      `${before - 2} in stock`,
    );

    // The lookup box finds the order again.
    await page.getByPlaceholder("Order number").fill(String(number));
    await page.getByRole("button", { name: "Find order" }).click();
    await page.waitForURL((u) => u.pathname === `/orders/${number}`);
    expect(await page.getByRole("heading", { name: `Order #${number}` }).isVisible()).toBe(true);
  } finally {
    await page.close();
  }
});

test("asking for more than is in stock shows a clear message", async () => {
  const page = await ctx.browser.newPage({ viewport: DESKTOP });
  try {
    await page.goto(`${env("STORE_URL")}/`);
    const card = page.locator('article[data-item="Fox"]');
    const stock = Number((await card.locator(".badge").textContent())!.replace(/\D/g, ""));
    // The field's max stops an ordinary click; a stale page (stock sold meanwhile) gets past it.
    await card.locator("input.qty").evaluate((el, q) => {
      (el as HTMLInputElement).removeAttribute("max");
      (el as HTMLInputElement).value = String(q);
    }, stock + 1);
    await card.getByRole("button", { name: "Buy now" }).click();
    await page.waitForLoadState();
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toBe(
      `Sorry, we don't have ${stock + 1} × Fox in stock: only ${
        stock.toLocaleString("en-US")
      } left. Please choose a smaller quantity.`,
    );
    await shoot(page, "short-stock", false);
  } finally {
    await page.close();
  }
});
