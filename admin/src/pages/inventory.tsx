/** @jsxImportSource hono/jsx */
// The inventory: the figures, the add-or-restock form, and a row per item with its
// correction form. Data is only ever JSX text (escaped).
import type { InventoryPage, Item } from "@bazaar/lib/schemas.ts";
import { Alert, FieldError, listHref, type Notice, Pager, SearchBox } from "@bazaar/lib/ui/layout.tsx";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import type { Session } from "../session.ts";
import { AdminPage, Csrf, type FormState, type Frame, invalid, WriteKey } from "./shared.tsx";

export type AddFields = "name" | "quantity" | "price";
export type RowFields = "quantity" | "price";

function AddForm({ session, state }: { session: Session; state?: FormState<AddFields> }) {
  const v = state?.values ?? {};
  const e = state?.errors ?? {};
  return (
    <section class="card aside" aria-labelledby="add-title">
      <div class="card-body">
        <h2 id="add-title">Add or restock an item</h2>
        <p class="muted">
          A new name is added; a name already sold (in any case) is restocked by the quantity given.
        </p>
        <form method="post" action="/admin/items" novalidate>
          <Csrf session={session} />
          <WriteKey />
          <div class="field">
            <label for="add-name">Name</label>
            <input
              class="input"
              id="add-name"
              name="name"
              maxlength={64}
              value={v.name ?? ""}
              aria-invalid={invalid(e.name)}
              aria-describedby={e.name ? "add-name-error" : undefined}
            />
            <FieldError id="add-name-error" message={e.name ? `Name ${e.name}` : undefined} />
          </div>
          <div class="form-row">
            <div class="field">
              <label for="add-quantity">Quantity</label>
              <input
                class="input"
                id="add-quantity"
                name="quantity"
                inputmode="numeric"
                value={v.quantity ?? ""}
                aria-invalid={invalid(e.quantity)}
                aria-describedby={e.quantity ? "add-quantity-error" : undefined}
              />
              <FieldError
                id="add-quantity-error"
                message={e.quantity ? `Quantity ${e.quantity}` : undefined}
              />
            </div>
            <div class="field">
              <label for="add-price">Price ($)</label>
              <input
                class="input"
                id="add-price"
                name="price"
                inputmode="decimal"
                value={v.price ?? ""}
                aria-invalid={invalid(e.price)}
                aria-describedby={e.price ? "add-price-error" : "add-price-hint"}
              />
              <FieldError id="add-price-error" message={e.price ? `Price ${e.price}` : undefined} />
            </div>
          </div>
          <div class="hint" id="add-price-hint">
            Price is needed for a new item; when restocking, leave it empty to keep the current price.
          </div>
          <div class="actions">
            <button class="btn btn-block" type="submit">Save item</button>
          </div>
        </form>
      </div>
    </section>
  );
}

/** Which page of the inventory a form was sent from: the answer shows that page again. */
type Where = { page: number; q: string };

function WhereFields({ where }: { where: Where }) {
  return (
    <>
      <input type="hidden" name="page" value={String(where.page)} />
      <input type="hidden" name="q" value={where.q} />
    </>
  );
}

function ItemRow(
  { item, index, session, where, state }: {
    item: Item;
    index: number;
    session: Session;
    where: Where;
    state?: FormState<RowFields>;
  },
) {
  const form = `row-${index}`;
  const v = state?.values ?? {};
  const e = state?.errors ?? {};
  return (
    <tr>
      <td class="name" data-label="Item">{item.name}</td>
      <td class="num" data-label="In stock">
        <div class="cell-field">
          <label class="sr-only" for={`${form}-quantity`}>Quantity of {item.name}</label>
          <input
            class="input"
            form={form}
            id={`${form}-quantity`}
            name="quantity"
            inputmode="numeric"
            value={v.quantity ?? String(item.quantity)}
            aria-invalid={invalid(e.quantity)}
          />
          <FieldError
            id={`${form}-quantity-error`}
            message={e.quantity ? `Quantity ${e.quantity}` : undefined}
          />
        </div>
      </td>
      <td class="num" data-label="Price ($)">
        <div class="cell-field">
          <label class="sr-only" for={`${form}-price`}>Price of {item.name}</label>
          <input
            class="input"
            form={form}
            id={`${form}-price`}
            name="price"
            inputmode="decimal"
            value={v.price ?? item.price.toFixed(2)}
            aria-invalid={invalid(e.price)}
          />
          <FieldError id={`${form}-price-error`} message={e.price ? `Price ${e.price}` : undefined} />
        </div>
      </td>
      <td data-label="">
        <div class="row-actions">
          <form id={form} method="post" action="/admin/items/correct">
            <Csrf session={session} />
            <WriteKey />
            <input type="hidden" name="name" value={item.name} />
            <input type="hidden" name="was_quantity" value={String(item.quantity)} />
            <input type="hidden" name="was_price" value={item.price.toFixed(2)} />
            <WhereFields where={where} />
            <button class="btn btn-small" type="submit">Save</button>
          </form>
          <a
            class="btn btn-small btn-secondary"
            href={`/admin/items/delete?name=${encodeURIComponent(item.name)}`}
          >
            Delete
          </a>
        </div>
      </td>
    </tr>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div class="card stat">
      <div class="label">{label}</div>
      <div class="value">{value}</div>
    </div>
  );
}

export function Dashboard(
  props: Frame & {
    session: Session;
    inventory: InventoryPage;
    notice?: Notice;
    add?: FormState<AddFields>;
    row?: { name: string; state: FormState<RowFields> };
  },
) {
  const { items, page, per_page, total, q, summary } = props.inventory;
  const pages = Math.max(1, Math.ceil(total / per_page));
  const where = { page, q };
  return (
    <AdminPage {...props} title="Inventory" active="items">
      <div class="page-head">
        <div>
          <h1>Inventory</h1>
          <p>Signed in as {props.session.user}.</p>
        </div>
      </div>
      {props.notice ? <Alert kind={props.notice.kind}>{props.notice.text}</Alert> : null}
      <div class="stat-row">
        <Stat label="Items" value={formatCount(summary.items)} />
        <Stat label="Units in stock" value={formatCount(summary.units)} />
        <Stat label="Sold out" value={formatCount(summary.out_of_stock)} />
        <Stat label="Stock value" value={formatMoney(summary.value)} />
      </div>
      <div class="layout-2">
        <AddForm session={props.session} state={props.add} />
        <section class="card" aria-labelledby="items-title">
          <div class="card-body">
            <h2 id="items-title">Items</h2>
            <p class="muted">
              Correct a quantity or a price and press Save. If it changed since this page was loaded (a sale,
              another admin), nothing is saved and the current value is shown.
            </p>
            <SearchBox action="/admin" q={q} label="Find items by name" />
          </div>
          {items.length === 0
            ? (
              <div class="card-body empty">
                <p class="muted">
                  {q
                    ? `No item's name contains “${q}”.`
                    : total === 0
                    ? "No items yet. Add the first one with the form."
                    : "No items on this page."}
                </p>
              </div>
            )
            : (
              <div class="table-wrap">
                <table class="table stack">
                  <thead>
                    <tr>
                      <th scope="col">Item</th>
                      <th scope="col" class="num">In stock</th>
                      <th scope="col" class="num">Price ($)</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item, index) => (
                      <ItemRow
                        item={item}
                        index={index}
                        session={props.session}
                        where={where}
                        state={props.row && props.row.name.toLowerCase() === item.name.toLowerCase()
                          ? props.row.state
                          : undefined}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          {pages > 1 ? <Pager page={page} pages={pages} href={(n) => listHref("/admin", n, q)} /> : null}
        </section>
      </div>
    </AdminPage>
  );
}
