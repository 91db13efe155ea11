// The admin site's client is typed by admin-api's own routes (AdminApiApp in
// admin-api/src/app.ts): the calls below say where they go, and the ones marked as
// expected errors must not compile (`bun run typecheck` fails if the route types are
// lost and they do).
import { describe, expect, test } from "bun:test";
import { recordingTarget } from "@bazaar/testutil/upstream.ts";
import { createAdminApiClient } from "./admin-api-client.ts";

function recording() {
  const { target, sent } = recordingTarget("http://admin-api.test");
  return { api: createAdminApiClient(target), sent };
}

describe("the typed admin-api client", () => {
  test("calls admin-api's paths with their bodies", async () => {
    const { api, sent } = recording();
    await api.items.$post({ json: { name: "Tux", quantity: 2, price: 1.5 }, header: {} });
    await api.items[":name"].$patch({
      param: { name: "Tux" },
      json: { quantity: 3, was_quantity: 2 },
      header: { "idempotency-key": "form-0123456789" },
    });
    await api.items[":name"].$delete({ param: { name: "Tux" }, header: {} });
    await api.orders.$get({ query: { page: "2", per_page: "10" } });
    await api.sessions.check.$post({ json: { id: "s" } });
    expect(sent).toEqual([
      { method: "POST", path: "/items", body: '{"name":"Tux","quantity":2,"price":1.5}' },
      { method: "PATCH", path: "/items/Tux", body: '{"quantity":3,"was_quantity":2}' },
      { method: "DELETE", path: "/items/Tux", body: "" },
      { method: "GET", path: "/orders?page=2&per_page=10", body: "" },
      { method: "POST", path: "/sessions/check", body: '{"id":"s"}' },
    ]);
  });

  test("a wrong path, method or body does not compile", async () => {
    const { api } = recording();
    // @ts-expect-error: no such path
    await api.item.$get();
    // @ts-expect-error: orders are never deleted
    await api.orders.$delete();
    // @ts-expect-error: the quantity is a number
    await api.items.$post({ json: { name: "Tux", quantity: "2" }, header: {} });
    await api.items[":name"].$patch({
      param: { name: "Tux" },
      // @ts-expect-error: a correction has no name field
      json: { name: "Fox", quantity: 1 },
      header: {},
    });
    // @ts-expect-error: an Idempotency-Key is text
    await api.items[":name"].$delete({ param: { name: "Tux" }, header: { "idempotency-key": 7 } });
    // @ts-expect-error: a session is checked by its id
    await api.sessions.check.$post({ json: {} });
  });
});
