// The storefront's client is typed by the api's own routes (ApiApp in
// api/src/app.ts): the calls below say where they go, and the ones marked as
// expected errors must not compile (`bun run typecheck` fails if the route types are
// lost and they do).
import { describe, expect, test } from "bun:test";
import { recordingTarget } from "@bazaar/testutil/upstream.ts";
import { createApiClient } from "./api-client.ts";

function recording() {
  const { target, sent } = recordingTarget("http://api.test");
  return { api: createApiClient(target), sent };
}

describe("the typed api client", () => {
  test("calls the api's paths with their bodies", async () => {
    const { api, sent } = recording();
    await api.items.$get({ query: { page: "2", q: "tu" } });
    await api.items.check.$post({ json: { items: [{ name: "Tux", etag: '"i1.2"' }], pages: [] } });
    await api.items[":name"].$get({ param: { name: "Tux" } });
    await api.orders.$post({ json: { name: "Tux", quantity: 2 } });
    await api.orders.$post({ json: { name: "Tux", quantity: 2, price: 15.99 } });
    await api.orders.$get({ query: { request_id: "r-1" } });
    await api.orders[":number"].$get({ param: { number: "7" } });
    expect(sent).toEqual([
      { method: "GET", path: "/items?page=2&q=tu", body: "" },
      {
        method: "POST",
        path: "/items/check",
        body: '{"items":[{"name":"Tux","etag":"\\"i1.2\\""}],"pages":[]}',
      },
      { method: "GET", path: "/items/Tux", body: "" },
      { method: "POST", path: "/orders", body: '{"name":"Tux","quantity":2}' },
      { method: "POST", path: "/orders", body: '{"name":"Tux","quantity":2,"price":15.99}' },
      { method: "GET", path: "/orders?request_id=r-1", body: "" },
      { method: "GET", path: "/orders/7", body: "" },
    ]);
  });

  test("a wrong path, method or body does not compile", async () => {
    const { api } = recording();
    // @ts-expect-error: no such path
    await api.item.$get();
    // @ts-expect-error: /orders takes no PUT
    await api.orders.$put({ json: { name: "Tux", quantity: 2 } });
    // @ts-expect-error: the quantity is a number
    await api.orders.$post({ json: { name: "Tux", quantity: "2" } });
    // @ts-expect-error: the name is required
    await api.orders.$post({ json: { quantity: 2 } });
    // @ts-expect-error: the order lookup needs its request id
    await api.orders.$get({ query: {} });
    // @ts-expect-error: a check names its pages too
    await api.items.check.$post({ json: { items: [] } });
    // @ts-expect-error: the price is a number
    await api.orders.$post({ json: { name: "Tux", quantity: 2, price: "15.99" } });
    // The health routes are the api's too (no token needed, but typed alike).
    await api.readyz.$get();
  });
});
