// The contract the fakes keep with the real apps: one table of calls per API, sent in
// order to the fake (./fake-api.ts, ./fake-admin-api.ts) and to the real app (the
// route harness, over MariaDB), both from CATALOGUE. Each row says the status both
// must answer and the shape (lib/'s schemas) both answers must have; the JSON's
// outline (keys and types) must also be the same on both sides. tests/contract/
// runs it, so a fake cannot drift from the app it stands in for.
import * as v from "valibot";
import {
  Added,
  CatalogCheckReply,
  CatalogPage,
  Changed,
  InventoryPage,
  Item,
  ItemName,
  Order,
  OrderPage,
  OrderQuantity,
  Price,
} from "@bazaar/lib/schemas.ts";
import type { Call } from "./route-harness.ts";

/** One call of the table: what is sent, the status both sides answer, and the shape of both answers. */
export type ContractRow = { name: string; call: Call; status: number; shape: v.GenericSchema };

/** `{ "data": … }`, every answer that is not an error. */
const data = <S extends v.GenericSchema>(schema: S) => v.object({ data: schema });

/** The one error shape (lib/src/http.ts ErrorBody). */
export const ErrorAnswer = v.object({
  error: v.object({
    code: v.number(),
    message: v.string(),
    fields: v.optional(v.record(v.string(), v.string())),
  }),
});

/** A purchase's answer (web/src/api-client.ts reads order_number). */
const Placed = v.object({
  order_number: v.number(),
  name: ItemName,
  quantity: OrderQuantity,
  unit_price: Price,
});

const get = (path: string, headers?: Record<string, string>): Call => ({ method: "GET", path, headers });
const send = (method: string, path: string, body: unknown, headers?: Record<string, string>): Call => ({
  method,
  path,
  body,
  headers,
});
const refused = (name: string, call: Call, status: number): ContractRow => ({
  name,
  call,
  status,
  shape: ErrorAnswer,
});
const WRONG_TOKEN = { authorization: "Bearer not-the-token" };

/** The read API (api/, stood in for by fakeApi). */
export const API_CONTRACT: ContractRow[] = [
  { name: "a page of the catalogue", call: get("/items"), status: 200, shape: data(CatalogPage) },
  {
    name: "a page of a search",
    call: get("/items?q=u&per_page=2&page=1"),
    status: 200,
    shape: data(CatalogPage),
  },
  refused("a page out of range", get("/items?per_page=0"), 400),
  { name: "a product", call: get("/items/Tux"), status: 200, shape: data(Item) },
  refused("a product that does not exist", get("/items/Nope"), 404),
  {
    name: "a check of an item, a missing one and a page",
    call: send("POST", "/items/check", {
      items: [{ name: "Tux" }, { name: "Nope" }],
      pages: [{ page: 1, per_page: 2, q: "" }],
    }),
    status: 200,
    shape: data(CatalogCheckReply),
  },
  refused("a check that is not one", send("POST", "/items/check", { items: "Tux" }), 400),
  {
    name: "a purchase",
    call: send("POST", "/orders", { name: "Tux", quantity: 2 }, { "x-request-id": "contract-1" }),
    status: 200,
    shape: data(Placed),
  },
  {
    name: "the order a request placed",
    call: get("/orders?request_id=contract-1"),
    status: 200,
    shape: data(Order),
  },
  refused("the order of a request that placed none", get("/orders?request_id=contract-0"), 404),
  refused("an order lookup without a request id", get("/orders"), 400),
  { name: "an order by number", call: get("/orders/1"), status: 200, shape: data(Order) },
  refused("an order that does not exist", get("/orders/999"), 404),
  refused("an order number that is none", get("/orders/first"), 404),
  refused("a purchase of nothing", send("POST", "/orders", { name: "Tux", quantity: 0 }), 400),
  refused("a purchase without a name", send("POST", "/orders", { quantity: 1 }), 400),
  refused(
    "a purchase of a product that does not exist",
    send("POST", "/orders", { name: "Nope", quantity: 1 }),
    404,
  ),
  refused("a purchase of more than the stock", send("POST", "/orders", { name: "Gopher", quantity: 6 }), 409),
  refused(
    "a purchase at a price that is no longer the item's",
    send("POST", "/orders", { name: "Tux", quantity: 1, price: 1 }),
    409,
  ),
  refused("a call with a wrong token", get("/items", WRONG_TOKEN), 401),
  refused("a call with no token", get("/items", { authorization: "" }), 401),
];

const SignInAnswer = v.object({ outcome: v.picklist(["allowed", "wrong", "wait"]) });

/** The write API (admin-api/, stood in for by fakeAdminApi). */
export const ADMIN_API_CONTRACT: ContractRow[] = [
  { name: "a page of the inventory", call: get("/items"), status: 200, shape: data(InventoryPage) },
  refused("a page too long", get("/items?per_page=500"), 400),
  { name: "an item", call: get("/items/Tux"), status: 200, shape: data(Item) },
  refused("an item that does not exist", get("/items/Nope"), 404),
  {
    name: "a new item",
    call: send("POST", "/items", { name: "Wasm", quantity: 3, price: 9.5 }),
    status: 201,
    shape: data(Added),
  },
  {
    name: "a restock",
    call: send("POST", "/items", { name: "Tux", quantity: 5 }),
    status: 200,
    shape: data(Added),
  },
  {
    name: "a restock with an Idempotency-Key",
    call: send("POST", "/items", { name: "Fox", quantity: 1 }, { "idempotency-key": "contract-key-1" }),
    status: 200,
    shape: data(Added),
  },
  {
    name: "the same again: the first answer, replayed",
    call: send("POST", "/items", { name: "Fox", quantity: 1 }, { "idempotency-key": "contract-key-1" }),
    status: 200,
    shape: data(Added),
  },
  refused("a new item without a price", send("POST", "/items", { name: "Newer", quantity: 1 }), 400),
  refused("an item without a name", send("POST", "/items", { name: "", quantity: 1, price: 1 }), 400),
  refused("a restock at another price", send("POST", "/items", { name: "Tux", quantity: 1, price: 1 }), 409),
  {
    name: "a correction",
    call: send("PATCH", "/items/Tux", { quantity: 7 }),
    status: 200,
    shape: data(Changed),
  },
  refused(
    "a correction from a stale page",
    send("PATCH", "/items/Tux", { quantity: 1, was_quantity: 999 }),
    409,
  ),
  refused("a correction of nothing", send("PATCH", "/items/Tux", {}), 400),
  refused("a correction of an item that does not exist", send("PATCH", "/items/Nope", { quantity: 1 }), 404),
  { name: "a deletion", call: send("DELETE", "/items/Fox", undefined), status: 200, shape: data(Changed) },
  refused("a deletion of an item that is gone", send("DELETE", "/items/Fox", undefined), 404),
  { name: "a page of the orders", call: get("/orders"), status: 200, shape: data(OrderPage) },
  refused("a page of the orders out of range", get("/orders?page=0"), 400),
  {
    name: "a sign-in",
    call: send("POST", "/sessions", {
      user: "admin",
      address: "127.0.0.1",
      verified: true,
      fingerprint: "f",
    }),
    status: 200,
    shape: data(SignInAnswer),
  },
  refused("a call with a wrong token", get("/items", WRONG_TOKEN), 401),
];

/**
 * A JSON value's outline: its keys and the types of its leaves (an array by its
 * first element), so two answers with other values but the same fields are equal.
 * @example
 * outline({ data: { items: [{ name: "Tux" }] } }); // { data: { items: [{ name: "string" }] } }
 */
export function outline(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [outline(value[0])] : [];
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map((
        [k, x],
      ) => [k, outline(x)]),
    );
  }
  return value === null ? "null" : typeof value;
}
