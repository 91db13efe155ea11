// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core. No fallback and no skip: without Chromium these tests fail.
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "../../local/src/config.ts";

export const CHROMIUM = "/usr/bin/chromium";

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Saves docs/screenshots/<name>.png (the README shows them). */
export async function shoot(page: Page, name: string, fullPage = true) {
  const file = path.join(REPO_ROOT, "docs/screenshots", `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export const unique = (base: string) => `${base} ${Date.now().toString(36).slice(-4)}`;
