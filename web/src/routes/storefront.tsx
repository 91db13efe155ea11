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
import { catalogue, OutcomeUnknown, placeOrder } from "../api.ts";
import { errorsAs, type WebDeps, type WebEnv } from "../env.ts";
import { Storefront } from "../pages.tsx";

const isHttpError = (err: unknown): err is HTTPException =>
  typeof err === "object" && err !== null && "status" in err &&
  typeof (err as { status: unknown }).status === "number";

export const storefront = ({ api, identity, site }: WebDeps) => {
  // The catalogue is fetched for every page (it must be current), but the same
  // catalogue comes back as the same frozen object (see call()), so the plain
  // page for it is rendered once, not per request.
  const plain = new WeakMap<readonly Item[], string>();
  const page = async (c: Context<WebEnv>, status: 200 | 400 | 404 | 409 | 413 | 503, notice?: Notice) => {
    const items = await catalogue(api, c);
    if (notice) {
      return renderPage(
        c,
        status,
        <Storefront identity={identity} site={site} items={items} notice={notice} />,
      );
    }
    let text = plain.get(items);
    if (text === undefined) {
      plain.set(items, text = await renderHtml(<Storefront identity={identity} site={site} items={items} />));
    }
    return renderPage(c, status, text);
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
