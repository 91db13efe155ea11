// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core. No fallback and no skip: without Chromium these tests fail. As root
// on Debian/Ubuntu it is installed with apt-get like the stack's servers: by
// `bun run test` before any test runs, else here at import — never inside a hook,
// whose timeout would end the test run while apt-get and dpkg are mid-install.
import { afterAll, beforeAll, setDefaultTimeout } from "bun:test";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { BROWSER, REPO_ROOT, requirePrograms } from "../../local/src/index.ts";

const { chromium: executablePath } = await requirePrograms(BROWSER, {
  log: (line) => console.error(`[tests/browser] ${line}`),
});

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

// A page's whole journey (load, fill, buy, follow the redirect, go back) takes under a
// second alone, but Chromium on 2 busy cores has taken over bun's default 5 s: and a
// test that times out has its child processes killed — the shared test stack's too.
setDefaultTimeout(30_000);

/** One Chromium for the tests of a file: launched before them, closed after. Read `.browser`. */
export function useBrowser() {
  const ctx = {} as { browser: Browser };
  beforeAll(async () => {
    ctx.browser = await launch();
  });
  afterAll(async () => {
    await ctx.browser?.close();
  });
  return ctx;
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/**
 * Saves <name>.png under tests/artifacts/screenshots, or with UPDATE_SCREENSHOTS=1
 * under docs/screenshots, the ones the README shows (so a test run leaves the
 * committed pictures alone).
 */
export async function shoot(page: Page, name: string, fullPage = true) {
  const dir = process.env.UPDATE_SCREENSHOTS === "1" ? "docs/screenshots" : "tests/artifacts/screenshots";
  const file = path.join(REPO_ROOT, dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export const unique = (base: string) => `${base} ${Date.now().toString(36).slice(-4)}`;
