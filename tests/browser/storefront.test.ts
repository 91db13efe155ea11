// The storefront in a real browser: it renders, lists the toys, and shows
// the serving instance at the top left — on a desktop and on a phone.
import { describe, expect, test } from "bun:test";
import { env } from "../system/stack.ts";
import { DESKTOP, PHONE, shoot, useBrowser } from "./browser.ts";

const ctx = useBrowser();

describe("the storefront in Chromium", () => {
  for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    test(`renders every toy with the instance identity at the top left (${label})`, async () => {
      const page = await ctx.browser.newPage({ viewport });
      try {
        const res = await page.goto(`${env("STORE_URL")}/`);
        expect(res?.status()).toBe(200);
        const header = res!.headers()["x-served-by"]!;
        expect(header).toMatch(/^\S+ \/ web-[12]$/);

        // The identity: the one that served the page, visible, in the top-left corner.
        const identity = page.locator(".served-by");
        expect((await identity.textContent())!.replace(" · ", " / ")).toBe(header);
        expect(await identity.isVisible()).toBe(true);
        const box = (await identity.boundingBox())!;
        expect(box.x).toBeLessThan(Math.max(40, viewport.width * 0.1));
        expect(box.y).toBeLessThan(40);
        expect(box.x + box.width).toBeLessThan(viewport.width * 0.6);
        // Nothing visible sits above or to the left of it.
        const higher = await page.evaluate((top) => {
          const all = [...document.body.querySelectorAll("*")] as HTMLElement[];
          return all.filter((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && el.innerText?.trim() && r.bottom <= top;
          }).map((el) => el.tagName);
        }, box.y);
        expect(higher).toEqual([]);

        // Every seeded toy is on a card with its price as money and a buy button.
        for (const toy of ["Tux", "Fox", "Python"]) {
          const card = page.locator(`article[data-item="${toy}"]`);
          expect(await card.isVisible()).toBe(true);
          expect(await card.locator(".price").textContent()).toMatch(/^\$\d+\.\d{2}$/);
          expect(await card.getByRole("button").count()).toBe(1);
        }
        // The stylesheet loaded (a real layout, not bare HTML): cards sit in a grid.
        const columns = await page.locator("section.grid").evaluate((el) =>
          getComputedStyle(el).gridTemplateColumns.split(" ").length
        );
        expect(columns).toBeGreaterThanOrEqual(label === "desktop" ? 3 : 1);
        // No horizontal scrolling on either size.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= globalThis.innerWidth)).toBe(
          true,
        );

        await shoot(page, `storefront-${label}`, label === "phone" ? false : true);
      } finally {
        await page.close();
      }
    });
  }
});
