// The admin site's view of admin-api: a typed client with a deadline on every call,
// and one function per thing the pages do. Every write goes through here.
import type { Context } from "hono";
import { hc } from "hono/client";
import { HTTPException } from "hono/http-exception";
import { Added, Changed, InventoryPage, Item, OrderPage } from "@bazaar/lib/schemas.ts";
import { call, forward, serviceClientOptions, type ServiceTarget } from "@bazaar/lib/ui/upstream.ts";
import { writeCall } from "@bazaar/lib/ui/write-call.ts";
import type { AdminApiApp } from "@bazaar/admin-api/src/app.ts";

export type AdminApiClient = ReturnType<typeof hc<AdminApiApp>>;

export const createAdminApiClient = (target: ServiceTarget): AdminApiClient =>
  hc<AdminApiApp>(target.url, serviceClientOptions(target));

const ADMIN_API = "the admin service";

const param = (name: string) => ({ param: { name: encodeURIComponent(name) } });

/** Rows of the inventory's table a page. */
export const INVENTORY_PER_PAGE = 50;

/** A page of the inventory (name order; with `q`, names containing it), and figures over every item. */
export const listItems = (api: AdminApiClient, c: Context, query: { page?: number; q?: string } = {}) =>
  call(
    ADMIN_API,
    InventoryPage,
    () =>
      api.items.$get({
        query: {
          page: String(query.page ?? 1),
          per_page: String(INVENTORY_PER_PAGE),
          ...(query.q ? { q: query.q } : {}),
        },
      }, forward(c)),
  );

/** One item by name (404 when there is none). */
export const getItem = (api: AdminApiClient, c: Context, name: string) =>
  call(ADMIN_API, Item, () => api.items[":name"].$get(param(name), forward(c)));

/**
 * A write admin-api did not confirm (its deadline passed, its reply broke, or it
 * answered 504 itself): it may or may not have been made. 504; the page says how to
 * check, and that sending the same form again is safe (its Idempotency-Key).
 */
export class ChangeUnknown extends HTTPException {
  constructor(cause?: unknown) {
    super(504, { message: "the change was not confirmed in time: it may or may not have been made", cause });
  }
}

const unknown = (cause: unknown) => new ChangeUnknown(cause);

/** The write's Idempotency-Key (the form's), when it has one. */
const keyed = (key: string | undefined) => ({ header: key ? { "idempotency-key": key } : {} });

export const addItem = (
  api: AdminApiClient,
  c: Context,
  body: { name: string; quantity: number; price?: number },
  key?: string,
) => writeCall(ADMIN_API, Added, () => api.items.$post({ json: body, ...keyed(key) }, forward(c)), unknown);

export const correctItem = (
  api: AdminApiClient,
  c: Context,
  name: string,
  change: { quantity?: number; price?: number; was_quantity?: number; was_price?: number },
  key?: string,
) =>
  writeCall(
    ADMIN_API,
    Changed,
    () => api.items[":name"].$patch({ ...param(name), json: change, ...keyed(key) }, forward(c)),
    unknown,
  );

export const deleteItem = (api: AdminApiClient, c: Context, name: string, key?: string) =>
  writeCall(
    ADMIN_API,
    Changed,
    () => api.items[":name"].$delete({ ...param(name), ...keyed(key) }, forward(c)),
    unknown,
  );

export const listOrders = (api: AdminApiClient, c: Context, page: number, perPage: number) =>
  call(
    ADMIN_API,
    OrderPage,
    () => api.orders.$get({ query: { page: String(page), per_page: String(perPage) } }, forward(c)),
  );
