// The storefront's view of the read API: a typed client with a deadline on every
// call, and one function per question the pages ask.
import type { Context } from "hono";
import { hc } from "hono/client";
import { orderKey, PublicFromKey } from "@bazaar/lib/order-number.ts";
import { GrantReply, type OrderRequest } from "@bazaar/lib/schemas.ts";
import { HTTPException } from "hono/http-exception";
import type { HonoEnv } from "@bazaar/lib/log.ts";
import {
  call,
  forward,
  serviceClientOptions,
  serviceHeaders,
  type ServiceTarget,
} from "@bazaar/lib/ui/upstream.ts";
import { writeCall } from "@bazaar/lib/ui/write-call.ts";
import * as v from "valibot";
import type { ApiApp } from "@bazaar/api/src/app.ts";
import { catalogLease } from "./catalog-lease.ts";

export type ApiClient = ReturnType<typeof hc<ApiApp>>;

export const createApiClient = (target: ServiceTarget): ApiClient =>
  hc<ApiApp>(target.url, serviceClientOptions(target));

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

/** The request id the purchase carried, under which its order can be looked up. */
export const requestIdOf = (c: Context<HonoEnv>) => c.get("requestId");

/**
 * The answer when the store cannot tell whether an order was placed: the api did
 * not answer in time, or broke off after the purchase reached it. 504, and how to
 * find out (docs/design.md: "where the outcome is unknown, the answer says so").
 */
export class OutcomeUnknown extends HTTPException {
  constructor(readonly requestId: string, cause?: unknown) {
    super(504, {
      message:
        `the store did not confirm the order in time: it may or may not have been placed; look it up with GET /orders?request_id=${requestId} before buying again`,
      cause,
    });
  }
}

/**
 * A purchase (with the unit price the buyer was shown, when there is one: a 409 if it
 * changed). Its 503 ("the store is temporarily unavailable") means it was not
 * placed: the api was never reached, or answered 503 itself (it gave up before
 * anything was bought: api/src/purchase.ts). Anything else that leaves no answer —
 * a deadline passed, a broken reply, the api's own 504 — is OutcomeUnknown.
 */
export const placeOrder = (api: ApiClient, c: Context, order: OrderRequest) =>
  writeCall(
    STORE,
    Placed,
    () => api.orders.$post({ json: order }, forward(c)),
    (cause) => new OutcomeUnknown(requestIdOf(c), cause),
  );

/** The order a request placed (public number), or a 404. */
export const orderByRequest = (api: ApiClient, c: Context, requestId: string) =>
  call(STORE, OrderView, () => api.orders.$get({ query: { request_id: requestId } }, forward(c)));

/** The order shown as `number` (a public number). */
export const order = (api: ApiClient, c: Context, number: number) =>
  call(
    STORE,
    OrderView,
    () => api.orders[":number"].$get({ param: { number: String(orderKey(number)) } }, forward(c)),
  );

/**
 * The grant to serve the catalogue from memory, over this api: its change stream (no
 * deadline: it stays open; the lease gives up on a silent one) and its renewals.
 * @example
 * const lease = leaseOf(api, { API_URL: "http://127.0.0.1:5003", API_TOKEN: token });
 */
export const leaseOf = (api: ApiClient, target: { API_URL: string; API_TOKEN: string }) => {
  const stream = hc<ApiApp>(target.API_URL, { headers: serviceHeaders(target.API_TOKEN) });
  return catalogLease({
    open: (signal) => stream.feed.changes.$get({}, { init: { signal } }),
    renew: (json) => call(STORE, GrantReply, () => api.feed.grant.$post({ json })),
  });
};
