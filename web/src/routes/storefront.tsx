/** @jsxImportSource hono/jsx */
// GET / (every item, a buy form each) and POST /buy (the form: place the order,
// then 303 to its page; a refusal re-renders the storefront with the reason).
import { type Context, Hono } from "hono";
import type { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { formNumber } from "@bazaar/lib/forms.ts";
import { limitBody } from "@bazaar/lib/http.ts";
import { describeIssues, OrderRequest } from "@bazaar/lib/schemas.ts";
import { type Notice, renderErrorPage, renderHtml, renderPage } from "@bazaar/lib/ui/layout.tsx";
import type { Item } from "@bazaar/lib/schemas.ts";
import { sameOriginForms } from "@bazaar/lib/ui/http.ts";
import { createHash } from "node:crypto";
import { conditional } from "@bazaar/lib/etag.ts";
import { OutcomeUnknown, placeOrder } from "../api.ts";
import { errorsAs, type WebDeps, type WebEnv } from "../env.ts";
import { Storefront } from "../pages.tsx";

const isHttpError = (err: unknown): err is HTTPException =>
  typeof err === "object" && err !== null && "status" in err &&
  typeof (err as { status: unknown }).status === "number";

export const storefront = ({ api, catalog, identity, site }: WebDeps) => {
  // The catalogue is revalidated for every page (it must be current), but an
  // unchanged catalogue is the same object (../catalog.ts), so the plain page for it
  // is rendered once, not per request, and its ETag is the digest of those bytes
  // (they differ per web server: the page names the one that served it).
  const plain = new WeakMap<readonly Item[], { text: string; etag: string }>();
  const page = async (c: Context<WebEnv>, status: 200 | 400 | 404 | 409 | 413 | 503, notice?: Notice) => {
    const items = (await catalog.catalogue(c)).value;
    if (notice) {
      return renderPage(
        c,
        status,
        <Storefront identity={identity} site={site} items={items} notice={notice} />,
      );
    }
    let rendered = plain.get(items);
    if (rendered === undefined) {
      const text = await renderHtml(<Storefront identity={identity} site={site} items={items} />);
      rendered = { text, etag: `"p${createHash("sha1").update(text).digest("base64url").slice(0, 22)}"` };
      plain.set(items, rendered);
    }
    if (status !== 200) return renderPage(c, status, rendered.text);
    const unchanged = conditional(c, rendered.etag);
    // Kept, but asked again every time (no-cache): the ETag makes that cheap.
    c.header("Cache-Control", "no-cache");
    if (unchanged) return unchanged;
    return c.html(rendered.text, 200);
  };

  return new Hono<WebEnv>()
    .get("/", errorsAs("html"), (c) => page(c, 200))
    .post("/buy", errorsAs("html"), sameOriginForms(), limitBody(), async (c) => {
      const form = await c.req.parseBody();
      const parsed = v.safeParse(OrderRequest, { name: form.name, quantity: formNumber(form.quantity) });
      if (!parsed.success) {
        const { fields, message } = describeIssues(parsed.issues);
        const text = fields.quantity
          ? `Please choose a quantity: it ${fields.quantity}.`
          : `That order can't be placed: ${message}.`;
        return page(c, 400, { kind: "error", text });
      }
      const { name, quantity } = parsed.output;
      try {
        const placed = await placeOrder(api, c, { name, quantity });
        return c.redirect(`/orders/${placed.order_number}`, 303);
      } catch (err) {
        if (!isHttpError(err)) throw err;
        if (err.status === 409) {
          return page(c, 409, {
            kind: "error",
            text: `Sorry, we don't have ${quantity} × ${name} in stock. Please choose a smaller quantity.`,
          });
        }
        if (err.status === 404) {
          return page(c, 404, { kind: "error", text: `Sorry, ${name} is no longer sold.` });
        }
        if (err.status === 400) {
          return page(c, 400, { kind: "error", text: `That order can't be placed: ${err.message}.` });
        }
        // Not known whether it was placed: say so, and where to find out (no catalogue
        // fetched for this page: the api may be what is not answering).
        if (err instanceof OutcomeUnknown) {
          return renderErrorPage(c, 504, {
            identity,
            site,
            message:
              `we could not confirm your order of ${quantity} × ${name} in time: it may or may not have been placed. Please check before buying again`,
            back: {
              href: `/orders?request_id=${encodeURIComponent(err.requestId)}`,
              label: "Check whether it was placed",
            },
          });
        }
        // 503: the api gave up before anything was bought (api/src/purchase.ts), or was never reached.
        if (err.status === 503) {
          const notice: Notice = {
            kind: "error",
            text:
              `Your order of ${quantity} × ${name} was not placed: the store is temporarily unavailable. Nothing was bought — please try again.`,
          };
          return page(c, 503, notice).catch(() => {
            throw err;
          });
        }
        throw err;
      }
    });
};
