// The storefront's view of the read API: a typed client with a deadline on every
// call, and one function per question the pages ask.
import type { Context } from "hono";
import { hc } from "hono/client";
import { orderKey, PublicFromKey } from "@bazaar/lib/order-number.ts";
import { Item, ItemList } from "@bazaar/lib/schemas.ts";
import { call, forward, serviceClientOptions, type ServiceTarget } from "@bazaar/lib/ui/upstream.ts";
import * as v from "valibot";
import type { ApiApp } from "./api-type.ts";

export type ApiClient = ReturnType<typeof hc<ApiApp>>;

export const createApiClient = (target: ServiceTarget): ApiClient => hc<ApiApp>(target.url, serviceClientOptions(target));

const STORE = "the store";

// The api speaks the orders' database keys; from here on the storefront sees only
// public numbers (from 0, lib/src/order-number.ts), in its JSON and its pages alike.
const Placed = v.object({ order_number: PublicFromKey });
// The api's order: the fields the storefront shows (the api may say more).
const OrderView = v.object({
  number: PublicFromKey,
  name: v.string(),
  quantity: v.number(),
  unit_price: v.number(),
  created_at: v.string(),
});
export type OrderView = v.InferOutput<typeof OrderView>;

export const catalogue = (api: ApiClient, c: Context) =>
  call(STORE, ItemList, () => api.items.$get(undefined, forward(c)));

export const product = (api: ApiClient, c: Context, name: string) =>
  call(STORE, Item, () => api.items[":name"].$get({ param: { name: encodeURIComponent(name) } }, forward(c)));

export const placeOrder = (api: ApiClient, c: Context, order: { name: string; quantity: number }) =>
  call(STORE, Placed, () => api.orders.$post({ json: order }, forward(c)));

/** The order shown as `number` (a public number). */
export const order = (api: ApiClient, c: Context, number: number) =>
  call(STORE, OrderView, () => api.orders[":number"].$get({ param: { number: String(orderKey(number)) } }, forward(c)));
