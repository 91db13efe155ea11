/** @jsxImportSource hono/jsx */
// GET / (a page of the catalogue, `?page=N&q=text`, a buy form per item) and POST /buy
// (the form: place the order, then 303 to its page; a refusal re-renders the page the
// form was on, with the reason).
import { type Context, Hono } from "hono";
import type { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { formNumber } from "@bazaar/lib/ui/forms.ts";
import { fail, limitBody } from "@bazaar/lib/http.ts";
import {
  type CatalogPage,
  CatalogQuery,
  describeIssues,
  OrderRequest,
  PER_PAGE,
} from "@bazaar/lib/schemas.ts";
import { type Notice, renderErrorPage, renderHtml, renderPage } from "@bazaar/lib/ui/layout.tsx";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import { htmlResponse, type PageBody, pageBody, sameOriginForms } from "@bazaar/lib/ui/http.ts";
import { createHash } from "node:crypto";
import { conditional } from "@bazaar/lib/etag.ts";
import { OutcomeUnknown, placeOrder } from "../api-client.ts";
import { errorsAs, type WebDeps, type WebHonoEnv } from "../env.ts";
import { Storefront } from "../pages.tsx";

const isHttpError = (err: unknown): err is HTTPException =>
  typeof err === "object" && err !== null && "status" in err &&
  typeof (err as { status: unknown }).status === "number";

/** Which page: `page` (from 1) and `q` (what names must contain), from the query or the buy form. */
const Where = v.pick(CatalogQuery, ["page", "q"]);

const whereOf = (fields: Record<string, unknown>) => {
  const parsed = v.safeParse(Where, {
    page: typeof fields.page === "string" ? fields.page : undefined,
    q: typeof fields.q === "string" ? fields.q : undefined,
  });
  if (!parsed.success) {
    const { message, fields: bad } = describeIssues(parsed.issues);
    fail(400, message, bad);
  }
  return parsed.output;
};

export const storefront = ({ purchases, catalog, identity, site }: WebDeps) => {
  // Every page is revalidated for each request (it must be current), but an unchanged
  // page is the same object (../catalog-reader.ts), so its plain rendering is made once, not
  // per request, and its ETag is the digest of those bytes (they differ per web
  // server: the page names the one that served it).
  const plain = new WeakMap<CatalogPage, { body: PageBody; etag: string }>();
  const page = async (
    c: Context<WebHonoEnv>,
    where: { page: number; q: string },
    status: 200 | 400 | 404 | 409 | 413 | 503,
    notice?: Notice,
  ) => {
    const { value } = await catalog.page(c, { page: where.page, per_page: PER_PAGE, q: where.q });
    if (value.items.length === 0 && value.total > 0) {
      const last = Math.ceil(value.total / value.per_page);
      return renderErrorPage(c, 404, {
        identity,
        site,
        message: `there is no page ${where.page}: the shop has ${last} ${last === 1 ? "page" : "pages"}`,
        back: { href: "/", label: "Back to the first page" },
      });
    }
    if (notice) {
      return renderPage(
        c,
        status,
        <Storefront identity={identity} site={site} catalog={value} notice={notice} />,
      );
    }
    let rendered = plain.get(value);
    if (rendered === undefined) {
      const text = await renderHtml(<Storefront identity={identity} site={site} catalog={value} />);
      const etag = `"p${createHash("sha1").update(text).digest("base64url").slice(0, 22)}"`;
      rendered = { body: pageBody(text), etag };
      plain.set(value, rendered);
    }
    if (status !== 200) return htmlResponse(c, status, rendered.body, { "Cache-Control": "no-store" });
    const unchanged = conditional(c, rendered.etag);
    // Kept, but asked again every time (no-cache): the ETag makes that cheap.
    c.header("Cache-Control", "no-cache");
    if (unchanged) return unchanged;
    return htmlResponse(c, 200, rendered.body);
  };

  return new Hono<WebHonoEnv>()
    .get("/", errorsAs("html"), (c) => page(c, whereOf(c.req.query()), 200))
    .post("/buy", errorsAs("html"), sameOriginForms(), limitBody(), async (c) => {
      const form = await c.req.parseBody();
      const where = whereOf(form);
      const parsed = v.safeParse(OrderRequest, {
        name: form.name,
        quantity: formNumber(form.quantity),
        price: formNumber(form.price),
      });
      if (!parsed.success) {
        const { fields, message } = describeIssues(parsed.issues);
        const text = fields.quantity
          ? `Please choose a quantity: it ${fields.quantity}.`
          : `That order can't be placed: ${message}.`;
        return page(c, where, 400, { kind: "error", text });
      }
      const { name, quantity, price } = parsed.output;
      try {
        const placed = await placeOrder(purchases, c, { name, quantity, price });
        return c.redirect(`/orders/${placed.order_number}`, 303);
      } catch (err) {
        if (!isHttpError(err)) throw err;
        if (err.status === 409 && err.message.startsWith("the price changed")) {
          const now = Number(err.message.match(/[\d.]+$/)?.[0]);
          return page(c, where, 409, {
            kind: "error",
            text: `The price of ${name} changed${price === undefined ? "" : ` from ${formatMoney(price)}`}${
              Number.isFinite(now) ? ` to ${formatMoney(now)}` : ""
            } since this page was shown. Nothing was bought — please check the new price and buy again.`,
          });
        }
        if (err.status === 409) {
          // How many are left now (a check like any read; the page below shows the same).
          const left = await catalog.product(c, name).then((t) => t.value.quantity, () => undefined);
          const now = left === undefined
            ? ""
            : left === 0
            ? `: it is sold out`
            : `: only ${formatCount(left)} left`;
          return page(c, where, 409, {
            kind: "error",
            text: `Sorry, we don't have ${quantity} × ${name} in stock${now}. ${
              left === 0 ? "Please check back soon." : "Please choose a smaller quantity."
            }`,
          });
        }
        if (err.status === 404) {
          return page(c, where, 404, { kind: "error", text: `Sorry, ${name} is no longer sold.` });
        }
        if (err.status === 400) {
          return page(c, where, 400, { kind: "error", text: `That order can't be placed: ${err.message}.` });
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
          return page(c, where, 503, notice).catch(() => {
            throw err;
          });
        }
        throw err;
      }
    });
};
