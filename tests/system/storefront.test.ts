// The storefront (design: Pages; issues 3 and 4) through HAProxy and straight at
// each web server. Read path and purchases only: this file also runs with api and
// web under Deno, and never uses the admin site. Purchases are small and of seeded
// toys, so only relative changes of stock are asserted.
import { describe, expect, test } from "bun:test";
import { formatCount, formatMoney } from "../../lib/src/ui/money.ts";
import {
  getJson,
  getPage,
  identityHeader,
  pageIdentity,
  postForm,
  shelf,
  stockOf,
  store,
  unescapeHtml,
} from "./http.ts";
import { KNOWN_TOYS } from "../../client/src/index.ts";
import { env, servedBy } from "./stack.ts";

const webs = () => ({ "web-1": env("WEB1_URL"), "web-2": env("WEB2_URL") });

/** What the stock badge says for a quantity (web/src/pages.tsx). */
const badge = (
  q: number,
) => (q === 0 ? "Out of stock" : q <= 5 ? `Only ${q} left` : `${formatCount(q)} in stock`);

/** The order number a buy form's redirect points at. */
const orderFrom = (res: Response) => Number(res.headers.get("location")?.match(/^\/orders\/(\d+)$/)?.[1]);

describe("GET /", () => {
  for (const instance of ["web-1", "web-2"] as const) {
    test(`${instance} shows each item with its name, quantity and price as money, 24 a page, found by name`, async () => {
      const base = webs()[instance];
      const { status, res, html } = await getPage("/", base);
      expect(status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const items = shelf(html);
      // Each item once, and a buy form each; at most a page of them.
      expect(items.length).toBeGreaterThan(0);
      expect(items.length).toBeLessThanOrEqual(24);
      expect(new Set(items.map((i) => i.name.toLowerCase())).size).toBe(items.length);
      expect(html.match(/<form class="buy" method="post" action="\/buy">/g)?.length).toBe(items.length);
      for (const name of KNOWN_TOYS) {
        // Found by a search for its name, and the page agrees with the public API.
        const found = shelf((await getPage(`/?q=${name.toLowerCase()}`, base)).html);
        const { body } = await getJson(`/products/${name}`, base);
        const card = found.find((i) => i.name === name);
        expect(card, `${name} on the storefront`).toBeDefined();
        expect(card!.price).toBe(formatMoney(body.data.price));
        expect(card!.price).toMatch(/^\$\d{1,3}(,\d{3})*\.\d{2}$/);
        expect(card!.stock).toBe(badge(body.data.quantity));
      }
    });
  }

  test("the seeded prices are shown as dollars and cents", async () => {
    const prices: Record<string, string> = {};
    for (const name of ["Tux", "Whale", "Ferris", "Octocat"]) {
      for (const card of shelf((await getPage(`/?q=${name}`)).html)) prices[card.name] = card.price;
    }
    expect(prices).toMatchObject({ Tux: "$15.99", Whale: "$24.50", Ferris: "$17.00", Octocat: "$9.99" });
  });

  test("pages: the storefront says which items it shows, and links the next page while there is one", async () => {
    const first = await getPage("/");
    const total = Number(
      first.html.match(/of ([\d,]+) items/)?.[1]?.replaceAll(",", "") ?? shelf(first.html).length,
    );
    if (total > 24) {
      expect(first.html).toContain('href="/?page=2" rel="next"');
      const second = await getPage("/?page=2");
      expect(second.status).toBe(200);
      const names = new Set(shelf(first.html).map((i) => i.name));
      for (const item of shelf(second.html)) expect(names.has(item.name)).toBe(false);
    }
    const past = await getPage(`/?page=${Math.ceil(total / 24) + 1}`);
    expect(past.status).toBe(404);
    expect(past.html).toContain("There is no page");
    expect((await getPage("/?page=zero")).status).toBe(400);
  });

  for (const instance of ["web-1", "web-2"] as const) {
    test(`${instance} shows its identity at the top left and in X-Served-By`, async () => {
      const { res, html } = await getPage("/", webs()[instance]);
      const shown = pageIdentity(html);
      // "<hostname> · web-N": the host, plus the instance because both share it.
      expect(shown).toMatch(new RegExp(`^\\S.* · ${instance}$`));
      // The header says the same in ASCII ("host / web-N"), readable by any client.
      expect(res.headers.get("x-served-by")).toBe(identityHeader(shown));
      expect(res.headers.get("x-served-by")).toMatch(/^[\x20-\x7e]+$/);
    });
  }

  test("every kind of response says who served it (pages, JSON, errors)", async () => {
    for (
      const path of ["/", "/products/Tux", "/products/Unicorn", "/orders/987654321", "/nope", "/healthz"]
    ) {
      const res = await fetch(`${store()}${path}`);
      await res.arrayBuffer();
      expect(servedBy(res)).toMatch(/^web-[12]$/);
    }
  });
});

describe("round robin through HAProxy", () => {
  test("consecutive requests alternate between web-1 and web-2", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { res } = await getPage("/");
      seen.push(servedBy(res)!);
    }
    expect(new Set(seen)).toEqual(new Set(["web-1", "web-2"]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  test("the page and its header agree on who served it", async () => {
    for (let i = 0; i < 4; i++) {
      const { res, html } = await getPage("/");
      expect(identityHeader(pageIdentity(html))).toBe(res.headers.get("x-served-by")!);
      expect(pageIdentity(html)).toEndWith(servedBy(res)!);
    }
  });
});

describe("buying from the storefront", () => {
  test("the buy form places the order and leads to the order's page", async () => {
    const before = await stockOf("Gopher");
    const buy = await postForm("/buy", { name: "Gopher", quantity: "2" });
    expect(buy.status).toBe(303);
    const number = orderFrom(buy.res);
    expect(number).toBeGreaterThanOrEqual(0); // public numbers start at 0 (lib/src/order-number.ts)
    const page = await getPage(`/orders/${number}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`Order #${number}`);
    expect(page.html).toContain("Gopher");
    expect(page.html).toContain("$14.25"); // unit price
    expect(page.html).toContain("$28.50"); // total
    expect(pageIdentity(page.html)).toMatch(/ · web-[12]$/);
    expect(await stockOf("Gopher")).toBe(before - 2);
    // The same order as JSON for programs.
    expect((await getJson(`/orders/${number}`)).body).toEqual({
      data: { number, name: "Gopher", quantity: 2 },
    });
  });

  test("the form works through either web server, and the other one sees the new stock at once", async () => {
    const { "web-1": w1, "web-2": w2 } = webs();
    const before = await stockOf("Duke", w2);
    const buy = await postForm("/buy", { name: "duke", quantity: "1" }, w1);
    expect(buy.status).toBe(303);
    expect(await stockOf("Duke", w2)).toBe(before - 1);
    const { html } = await getPage("/?q=duke", w2);
    expect(shelf(html).find((i) => i.name === "Duke")!.stock).toBe(badge(before - 1));
  });

  test("short stock re-renders the storefront with a clear message and changes nothing", async () => {
    const before = await stockOf("Elephant");
    const want = Math.min(1000, before + 1);
    const res = await postForm("/buy", { name: "Elephant", quantity: String(want) });
    expect(res.status).toBe(409);
    expect(res.res.headers.get("content-type")).toContain("text/html");
    expect(unescapeHtml(res.html)).toContain(
      `Sorry, we don't have ${want} × Elephant in stock: only ${
        formatCount(before)
      } left. Please choose a smaller quantity.`,
    );
    expect(res.html).toContain('role="alert"');
    // Still the storefront, with its items.
    expect(shelf(res.html).length).toBeGreaterThan(0);
    expect(await stockOf("Elephant")).toBe(before);
  });

  test("a bad quantity is refused with the reason, and nothing is bought", async () => {
    const before = await stockOf("Ferris");
    for (const quantity of ["0", "abc", "1.5", "-2", "1001", ""]) {
      const res = await postForm("/buy", { name: "Ferris", quantity });
      expect(res.status).toBe(400);
      expect(res.html).toContain("Please choose a quantity");
    }
    expect(await stockOf("Ferris")).toBe(before);
  });

  test("an unknown item says it is no longer sold", async () => {
    const res = await postForm("/buy", { name: "Unicorn", quantity: "1" });
    expect(res.status).toBe(404);
    expect(res.html).toContain("Sorry, Unicorn is no longer sold.");
  });

  test("a buy form posted from another site is refused and buys nothing", async () => {
    const before = await stockOf("Tux");
    for (const origin of ["https://evil.example", "null"]) {
      const res = await postForm("/buy", { name: "Tux", quantity: "1" }, store(), { Origin: origin });
      expect(res.status).toBe(403);
      expect(res.html).toContain("sent from another site");
    }
    const fromOtherSite = await postForm("/buy", { name: "Tux", quantity: "1" }, store(), {
      Origin: "https://evil.example",
      "Sec-Fetch-Site": "cross-site",
    });
    expect(fromOtherSite.status).toBe(403);
    expect(await stockOf("Tux")).toBe(before);
  });
});

describe("looking an order up", () => {
  test("the lookup box goes to the order's page by number", async () => {
    const placed = await postForm("/buy", { name: "Python", quantity: "1" });
    const number = orderFrom(placed.res);
    const lookup = await getPage(`/orders?number=${number}`);
    expect(lookup.status).toBe(303);
    expect(lookup.res.headers.get("location")).toBe(`/orders/${number}`);
    const page = await getPage(`/orders/${number}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`Order #${number}`);
    expect(page.html).toContain("Python");
  });

  test("an unknown or malformed number is an error page, not a crash", async () => {
    const unknown = await getPage("/orders/987654321");
    expect(unknown.status).toBe(404);
    expect(unknown.res.headers.get("content-type")).toContain("text/html");
    expect(unknown.html).toContain("Order not found.");
    const malformed = await getPage("/orders/abc");
    expect(malformed.status).toBe(400);
    expect(malformed.res.headers.get("content-type")).toContain("text/html");
    const badBox = await getPage("/orders?number=abc");
    expect(badBox.status).toBe(404);
    expect(badBox.html).toContain("please check the number on your receipt");
  });

  test("an unknown page is a page for browsers", async () => {
    const res = await getPage("/no/such/page");
    expect(res.status).toBe(404);
    expect(res.res.headers.get("content-type")).toContain("text/html");
    expect(res.html).toContain("Page not found");
    expect(pageIdentity(res.html)).toMatch(/ · web-[12]$/);
  });
});
