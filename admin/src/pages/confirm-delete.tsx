/** @jsxImportSource hono/jsx */
// The page that asks before an item is deleted.
import type { Item } from "@bazaar/lib/schemas.ts";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import type { Session } from "../session.ts";
import { AdminPage, Csrf, type Frame, WriteKey } from "./shared.tsx";

export function ConfirmDelete(props: Frame & { session: Session; item: Item }) {
  return (
    <AdminPage {...props} title={`Delete ${props.item.name}?`} active="items">
      <section class="card auth">
        <div class="card-body">
          <h1>Delete {props.item.name}?</h1>
          <p class="muted">
            {props.item.name} has {formatCount(props.item.quantity)} in stock at{" "}
            {formatMoney(props.item.price)}. Deleting it takes it off the store at once; its past orders are
            kept.
          </p>
          <form method="post" action="/admin/items/delete">
            <Csrf session={props.session} />
            <WriteKey />
            <input type="hidden" name="name" value={props.item.name} />
            <div class="actions">
              <button class="btn btn-danger" type="submit">Delete {props.item.name}</button>
              <a class="btn btn-secondary" href="/admin">Cancel</a>
            </div>
          </form>
        </div>
      </section>
    </AdminPage>
  );
}
