// What the bench asks of the store besides load: stock set through admin-api (so
// the cache is cleared as for any admin write) and the stock/order check read
// straight from the database as its superuser.
import type { Stack } from "../../local/src/index.ts";

export function storeAdmin(stack: Stack) {
  const call = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`${stack.urls.adminApi}${pathname}`, {
      method,
      headers: { Authorization: `Bearer ${stack.env.ADMIN_API_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`admin-api ${method} ${pathname}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const nameKey = (name: string) => name.toLowerCase().replace(/'/g, "''");

  return {
    /** Sets an item's stock, creating the item (price 1.00) if it does not exist. */
    async setStock(name: string, quantity: number) {
      const res = await fetch(`${stack.urls.adminApi}/items/${encodeURIComponent(name)}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${stack.env.ADMIN_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ quantity }),
      });
      if (res.status === 404) await call("POST", "/items", { name, quantity, price: 1 });
      else if (!res.ok) throw new Error(`admin-api PATCH ${name}: ${res.status} ${await res.text()}`);
    },
    async stock(name: string) {
      const out = await stack.sql(`SELECT quantity FROM bazaar.items WHERE name_key = '${nameKey(name)}'`);
      return Number(out.trim().split("\n")[1]);
    },
    /** Units still in stock over these items, and their orders after `after`, read in one statement (one snapshot). */
    async stockAndOrders(names: string[], after: number) {
      const list = names.map((n) => `'${nameKey(n)}'`).join(",");
      const out = await stack.sql(
        `SELECT (SELECT SUM(quantity) FROM bazaar.items WHERE name_key IN (${list})), (SELECT MIN(quantity) FROM bazaar.items WHERE name_key IN (${list})), ` +
          `(SELECT COUNT(*) FROM bazaar.orders o JOIN bazaar.items i ON i.id = o.item_id WHERE i.name_key IN (${list}) AND o.number > ${after}), ` +
          `(SELECT COALESCE(SUM(o.quantity), 0) FROM bazaar.orders o JOIN bazaar.items i ON i.id = o.item_id WHERE i.name_key IN (${list}) AND o.number > ${after})`,
      );
      const [stock, lowest, count, units] = out.trim().split("\n")[1]!.split("\t").map(Number);
      return { stock: stock!, lowest: lowest!, count: count!, units: units! };
    },
    /** Orders of these items after order number `after`: how many and how many units. */
    async ordersSince(names: string[], after: number) {
      const list = names.map((n) => `'${nameKey(n)}'`).join(",");
      const out = await stack.sql(
        `SELECT COUNT(*), COALESCE(SUM(o.quantity), 0) FROM bazaar.orders o JOIN bazaar.items i ON i.id = o.item_id WHERE i.name_key IN (${list}) AND o.number > ${after}`,
      );
      const [count, units] = out.trim().split("\n")[1]!.split("\t").map(Number);
      return { count: count!, units: units! };
    },
    async lastOrderNumber() {
      const out = await stack.sql("SELECT COALESCE(MAX(number), 0) FROM bazaar.orders");
      return Number(out.trim().split("\n")[1]);
    },
    /** Database keys of the orders after key `after` (the store shows key − 1: lib/src/order-number.ts). */
    async orderNumbers(after: number, limit: number) {
      const out = await stack.sql(
        `SELECT number FROM bazaar.orders WHERE number > ${after} ORDER BY number LIMIT ${limit}`,
      );
      return out.trim().split("\n").slice(1).map(Number);
    },
  };
}
