/** @jsxImportSource hono/jsx */
// The orders, newest first, a page at a time.
import { publicOrderNumber } from "@bazaar/lib/order-number.ts";
import type { OrderPage } from "@bazaar/lib/schemas.ts";
import { Pager } from "@bazaar/lib/ui/layout.tsx";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import type { Session } from "../session.ts";
import { AdminPage, type Frame } from "./shared.tsx";

const when = (iso: string) =>
  `${
    new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })
  } UTC`;

export function OrdersPage(props: Frame & { session: Session; data: OrderPage }) {
  const { orders, page, per_page, total } = props.data;
  const pages = Math.max(1, Math.ceil(total / per_page));
  return (
    <AdminPage {...props} title="Orders" active="orders">
      <div class="page-head">
        <div>
          <h1>Orders</h1>
          <p>{formatCount(total)} {total === 1 ? "order" : "orders"}, newest first.</p>
        </div>
      </div>
      <section class="card">
        {orders.length === 0
          ? (
            <div class="card-body empty">
              <p class="muted">{total === 0 ? "No orders yet." : "No orders on this page."}</p>
            </div>
          )
          : (
            <div class="table-wrap">
              <table class="table stack">
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Item</th>
                    <th scope="col" class="num">Quantity</th>
                    <th scope="col" class="num">Unit price</th>
                    <th scope="col" class="num">Total</th>
                    <th scope="col">Placed</th>
                  </tr>
                </thead>
                <tbody>
                  {orders.map((o) => (
                    <tr>
                      {/* The number the buyer was given (from 0), not admin-api's database key. */}
                      <td data-label="Order">#{publicOrderNumber(o.number)}</td>
                      <td class="name" data-label="Item">{o.name}</td>
                      <td class="num" data-label="Quantity">{formatCount(o.quantity)}</td>
                      <td class="num" data-label="Unit price">{formatMoney(o.unit_price)}</td>
                      <td class="num" data-label="Total">
                        {formatMoney(Math.round(o.unit_price * o.quantity * 100) / 100)}
                      </td>
                      <td data-label="Placed">{when(o.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager
          page={page}
          pages={pages}
          href={(n) => `/admin/orders?page=${n}`}
          prev="← Newer"
          next="Older →"
        />
      </section>
    </AdminPage>
  );
}
