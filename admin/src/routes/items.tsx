/** @jsxImportSource hono/jsx */
// The inventory: the items table, adding (insert or restock), per-row corrections
// and deletion with a confirmation page. Each write goes to admin-api, then
// redirects (303) to the table with a message saying what happened.
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { fail } from "@bazaar/lib/http.ts";
import {
  AddItem,
  type CacheCleared,
  CatalogQuery,
  CorrectItem,
  IdempotencyKey,
  ItemName,
} from "@bazaar/lib/schemas.ts";
import { listHref, renderErrorPage, renderPage } from "@bazaar/lib/ui/layout.tsx";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import * as adminApi from "../admin-api-client.ts";
import type { AdminDeps, AdminHonoEnv } from "../env.ts";
import { fieldErrors, formNumber, text } from "@bazaar/lib/ui/forms.ts";
import { ConfirmDelete } from "../pages/confirm-delete.tsx";
import { type AddFields, Dashboard, type RowFields } from "../pages/inventory.tsx";
import { type FormState, WRITE_KEY_FIELD } from "../pages/shared.tsx";

/** The api refused with field messages (400, or 409 for a restock over the limit). */
const refusal = (err: unknown) =>
  err instanceof HTTPException && err.status < 500 && err.status !== 404
    ? {
      status: err.status as ContentfulStatusCode,
      message: err.message,
      fields: (err.cause as { fields?: Record<string, string> } | undefined)?.fields ?? {},
    }
    : null;

/** Which page of the inventory: from the query (GET) or the form's hidden fields (POST); page 1 if unreadable. */
const whereOf = (fields: Record<string, unknown>) => {
  const parsed = v.safeParse(CatalogQuery, {
    page: typeof fields.page === "string" && fields.page !== "" ? fields.page : undefined,
    q: typeof fields.q === "string" ? fields.q : undefined,
  });
  return parsed.success ? { page: parsed.output.page, q: parsed.output.q } : { page: 1, q: "" };
};

/** A write's message, and what the store's cache made of it when admin-api could not clear it itself. */
const said = (text: string, { cache, replayed }: { cache: CacheCleared; replayed: boolean }) => {
  const told = replayed
    ? `Already done: this form was sent before, and made this change then. ${text}`
    : text;
  return cache === "relayed"
    ? `${told}. The store's cache could not be cleared directly; its relay cleared it before this answer.`
    : told;
};

/** The form's Idempotency-Key (pages/shared.tsx WriteKey); none if it is missing or malformed. */
const writeKey = (form: Record<string, unknown>) => {
  const key = v.safeParse(IdempotencyKey, form[WRITE_KEY_FIELD]);
  return key.success ? key.output : undefined;
};

export const items = ({ adminApi: api, adminWrites: writes, identity, site, sessions }: AdminDeps) => {
  const dashboard = async (
    c: Context<AdminHonoEnv>,
    status: ContentfulStatusCode,
    extra: {
      where?: { page: number; q: string };
      add?: FormState<AddFields>;
      row?: { name: string; state: FormState<RowFields> };
      notice?: { kind: "error"; text: string };
    } = {},
  ) => {
    const notice = extra.notice ?? (await sessions.takeFlash(c));
    const inventory = await adminApi.listItems(api, c, extra.where ?? whereOf(c.req.query()));
    return renderPage(
      c,
      status,
      <Dashboard
        identity={identity}
        site={site}
        session={c.get("session")}
        inventory={inventory}
        notice={notice}
        add={extra.add}
        row={extra.row}
      />,
    );
  };

  /**
   * A write admin-api could not answer for. Not confirmed (504): it may or may not
   * have been made; the page says how to check, and that sending the same form again
   * is safe. Not made (503): nothing changed; the inventory says so, or this error
   * page when it cannot be listed either. Anything else is not this function's.
   */
  const unanswered = async (
    c: Context<AdminHonoEnv>,
    err: unknown,
    change: string,
    name: string,
    extra: Parameters<typeof dashboard>[2] = {},
  ) => {
    if (err instanceof adminApi.ChangeUnknown) {
      return renderErrorPage(c, 504, {
        identity,
        site,
        message:
          `we could not confirm in time that ${change}: it may or may not have happened. Check ${name} in the inventory before changing it again; sending this same form again (reload this page) is safe: it is applied at most once`,
        back: { href: listHref("/admin", 1, name), label: `Check ${name}` },
      });
    }
    if (!(err instanceof HTTPException) || err.status !== 503) return undefined;
    const text =
      `Nothing was changed: the store could not make the change in time (${change}). Please try again.`;
    return dashboard(c, 503, { ...extra, notice: { kind: "error", text } }).catch(() =>
      renderErrorPage(c, 503, { identity, site, message: text })
    );
  };

  const done = async (
    c: Context<AdminHonoEnv>,
    text: string,
    kind: "success" | "info" = "success",
    where = { page: 1, q: "" },
  ) => {
    await sessions.flash(c, { kind, text });
    return c.redirect(listHref("/admin", where.page, where.q), 303);
  };

  return new Hono<AdminHonoEnv>()
    .get("/", (c) => dashboard(c, 200))
    .post("/items", async (c) => {
      const form = await c.req.parseBody();
      const values = { name: text(form.name), quantity: text(form.quantity), price: text(form.price) };
      const parsed = v.safeParse(AddItem, {
        name: values.name,
        quantity: formNumber(values.quantity),
        price: formNumber(values.price),
      });
      if (!parsed.success) return dashboard(c, 400, { add: { values, errors: fieldErrors(parsed.issues) } });
      try {
        const added = await adminApi.addItem(writes, c, parsed.output, writeKey(form));
        const { item } = added;
        return done(
          c,
          said(
            added.action === "inserted"
              ? `Added ${item.name}: ${formatCount(item.quantity)} at ${formatMoney(item.price)}`
              : `Restocked ${item.name}: ${formatCount(added.previous_quantity)} → ${
                formatCount(item.quantity)
              }${
                added.previous_price === item.price
                  ? ""
                  : `; price ${formatMoney(added.previous_price)} → ${formatMoney(item.price)}`
              }`,
            added,
          ),
          added.replayed ? "info" : "success",
        );
      } catch (err) {
        const unsure = await unanswered(
          c,
          err,
          `${parsed.output.name} was added or restocked`,
          parsed.output.name,
          {
            add: { values, errors: {} },
          },
        );
        if (unsure) return unsure;
        const r = refusal(err);
        if (!r) throw err;
        const errors = Object.keys(r.fields).length ? r.fields : { name: r.message };
        return dashboard(c, r.status, { add: { values, errors } });
      }
    })
    .post("/items/correct", async (c) => {
      const form = await c.req.parseBody();
      const where = whereOf(form);
      const name = text(form.name);
      const values = { quantity: text(form.quantity), price: text(form.price) };
      const quantity = formNumber(values.quantity);
      const price = formNumber(values.price);
      // Send only what was changed: a price fix must not reset stock that sold meanwhile.
      // Each with the value the page showed: admin-api refuses (409, with the current
      // value) a correction of a value that changed since, so sales are never overwritten.
      const was = { quantity: formNumber(form.was_quantity), price: formNumber(form.was_price) };
      const change: { quantity?: unknown; price?: unknown; was_quantity?: number; was_price?: number } = {};
      if (quantity !== was.quantity) {
        change.quantity = quantity ?? "";
        if (typeof was.quantity === "number") change.was_quantity = was.quantity;
      }
      if (price !== was.price) {
        change.price = price ?? "";
        if (typeof was.price === "number") change.was_price = was.price;
      }
      if (Object.keys(change).length === 0) return done(c, `Nothing to change for ${name}.`, "info", where);
      const parsed = v.safeParse(CorrectItem, change);
      if (!parsed.success) {
        return dashboard(c, 400, {
          where,
          row: { name, state: { values, errors: fieldErrors(parsed.issues) } },
        });
      }
      try {
        const before = was;
        const changed = await adminApi.correctItem(writes, c, name, parsed.output, writeKey(form));
        const { item } = changed;
        const parts = [];
        if (parsed.output.quantity !== undefined) {
          parts.push(
            `quantity ${typeof before.quantity === "number" ? formatCount(before.quantity) : "?"} → ${
              formatCount(item.quantity)
            }`,
          );
        }
        if (parsed.output.price !== undefined) {
          parts.push(
            `price ${typeof before.price === "number" ? formatMoney(before.price) : "?"} → ${
              formatMoney(item.price)
            }`,
          );
        }
        return done(
          c,
          said(`Updated ${item.name}: ${parts.join(", ")}`, changed),
          changed.replayed ? "info" : "success",
          where,
        );
      } catch (err) {
        const unsure = await unanswered(c, err, `${name} was updated`, name, { where });
        if (unsure) return unsure;
        if (err instanceof HTTPException && err.status === 404) {
          return dashboard(c, 404, { where, notice: { kind: "error", text: `${name} no longer exists.` } });
        }
        const r = refusal(err);
        if (!r) throw err;
        const row = {
          name,
          state: { values, errors: Object.keys(r.fields).length ? r.fields : { quantity: r.message } },
        };
        // Changed meanwhile: the table below shows the current values, the message says what they were.
        if (r.status === 409) {
          return dashboard(c, 409, {
            where,
            row,
            notice: {
              kind: "error",
              text: `${r.message}. Nothing was saved: check the current values below and save again.`,
            },
          });
        }
        return dashboard(c, r.status, { where, row });
      }
    })
    .get("/items/delete", async (c) => {
      const name = v.safeParse(ItemName, c.req.query("name") ?? "");
      if (!name.success) fail(404, "item not found");
      const item = await adminApi.getItem(api, c, name.output);
      return renderPage(
        c,
        200,
        <ConfirmDelete identity={identity} site={site} session={c.get("session")} item={item} />,
      );
    })
    .post("/items/delete", async (c) => {
      const form = await c.req.parseBody();
      const name = v.safeParse(ItemName, text(form.name));
      if (!name.success) fail(404, "item not found");
      try {
        const deleted = await adminApi.deleteItem(writes, c, name.output, writeKey(form));
        const { item } = deleted;
        return done(
          c,
          said(
            `Deleted ${item.name} (it had ${formatCount(item.quantity)} in stock at ${
              formatMoney(item.price)
            })`,
            deleted,
          ),
          deleted.replayed ? "info" : "success",
        );
      } catch (err) {
        const unsure = await unanswered(c, err, `${name.output} was deleted`, name.output);
        if (unsure) return unsure;
        throw err;
      }
    });
};
