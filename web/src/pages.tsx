/** @jsxImportSource hono/jsx */
// The storefront's pages. Item names are only ever JSX text (escaped).
import type { CatalogPage, Item } from "@bazaar/lib/schemas.ts";
import { Alert, Layout, listHref, type Notice, Pager, SearchBox, type Site } from "@bazaar/lib/ui/layout.tsx";
import { formatCount, formatMoney } from "@bazaar/lib/ui/money.ts";
import type { OrderView } from "./api-client.ts";

const LOW_STOCK = 5;

/** The storefront's header links, on every page of it. */
export function Nav() {
  return (
    <>
      <a href="/">Shop</a>
      <a href="/#find-order">Find an order</a>
    </>
  );
}

/** A stable colour for an item's tile, from its name. */
function swatch(name: string) {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `swatch-${h % 8}`;
}

const initial = (name: string) => ([...name.trim()][0] ?? "?").toUpperCase();

function StockBadge({ quantity }: { quantity: number }) {
  if (quantity === 0) return <span class="badge badge-out">Out of stock</span>;
  if (quantity <= LOW_STOCK) return <span class="badge badge-low">Only {quantity} left</span>;
  return <span class="badge">{formatCount(quantity)} in stock</span>;
}

/** Which page of the storefront a form was sent from: a refusal shows that page again. */
type Where = { page: number; q: string };

function ProductCard({ item, index, where }: { item: Item; index: number; where: Where }) {
  const soldOut = item.quantity === 0;
  const id = `qty-${index}`;
  return (
    <article class={soldOut ? "card product soldout" : "card product"} data-item={item.name}>
      <div class={`product-art ${swatch(item.name)}`} aria-hidden="true">{initial(item.name)}</div>
      <div class="card-body">
        <h2 class="product-name">{item.name}</h2>
        <div class="product-meta">
          <span class="price">{formatMoney(item.price)}</span>
          <StockBadge quantity={item.quantity} />
        </div>
        <form class="buy" method="post" action="/buy">
          <input type="hidden" name="name" value={item.name} />
          {/* The price shown: a purchase at another price is refused, never charged. */}
          <input type="hidden" name="price" value={item.price.toFixed(2)} />
          {where.page > 1 ? <input type="hidden" name="page" value={String(where.page)} /> : null}
          {where.q ? <input type="hidden" name="q" value={where.q} /> : null}
          <label class="sr-only" for={id}>Quantity of {item.name}</label>
          <input
            class="input qty"
            id={id}
            type="number"
            name="quantity"
            value="1"
            min="1"
            max={String(Math.max(1, Math.min(1000, item.quantity)))}
            step="1"
            inputmode="numeric"
            required
            disabled={soldOut}
          />
          <button class="btn" type="submit" disabled={soldOut}>{soldOut ? "Sold out" : "Buy now"}</button>
        </form>
      </div>
    </article>
  );
}

function OrderLookup() {
  return (
    <form class="lookup" method="get" action="/orders" id="find-order" role="search">
      <label class="sr-only" for="order-number">Order number</label>
      <input
        class="input"
        id="order-number"
        type="number"
        name="number"
        min="0"
        step="1"
        inputmode="numeric"
        placeholder="Order number"
        required
      />
      <button class="btn btn-secondary" type="submit">Find order</button>
    </form>
  );
}

/** What the heading says of the page: how many items, in stock, and which of them are shown. */
function summary({ items, page, per_page, total, q }: CatalogPage) {
  if (total === 0) return q ? `No item's name contains “${q}”.` : "Nothing on the shelves yet.";
  const noun = total === 1 ? "item" : "items";
  const matching = q ? ` matching “${q}”` : "";
  if (total <= per_page) {
    const inStock = items.filter((i) => i.quantity > 0).length;
    return `${formatCount(total)} ${noun}${matching}, ${
      formatCount(inStock)
    } in stock. Order today, ships tomorrow.`;
  }
  const first = (page - 1) * per_page + 1;
  return `${formatCount(first)}–${formatCount(first + items.length - 1)} of ${
    formatCount(total)
  } ${noun}${matching}. Order today, ships tomorrow.`;
}

export function Storefront(props: { identity: string; site: Site; catalog: CatalogPage; notice?: Notice }) {
  const { items, page, per_page, total, q } = props.catalog;
  const pages = Math.max(1, Math.ceil(total / per_page));
  const where = { page, q };
  return (
    <Layout identity={props.identity} site={props.site} title="Bazaar" nav={<Nav />}>
      <div class="page-head">
        <div>
          <h1>Toys &amp; gadgets</h1>
          <p>{summary(props.catalog)}</p>
        </div>
        <div class="finders">
          <SearchBox action="/" q={q} label="Search the shop" />
          <OrderLookup />
        </div>
      </div>
      {props.notice ? <Alert kind={props.notice.kind}>{props.notice.text}</Alert> : null}
      {items.length === 0
        ? (
          <section class="card empty">
            <div class="big" aria-hidden="true">🧸</div>
            {q
              ? (
                <>
                  <h2>Nothing found</h2>
                  <p class="muted">
                    No item's name contains “{q}”. <a href="/">See everything in the shop</a>.
                  </p>
                </>
              )
              : (
                <>
                  <h2>The shelves are empty</h2>
                  <p class="muted">
                    There is nothing for sale right now. New toys arrive all the time — please check back
                    soon.
                  </p>
                </>
              )}
          </section>
        )
        : (
          <section class="grid" aria-label="Items for sale">
            {items.map((item, index) => (
              <ProductCard key={item.name} item={item} index={index} where={where} />
            ))}
          </section>
        )}
      {pages > 1
        ? (
          <Pager
            page={page}
            pages={pages}
            href={(n) => listHref("/", n, q)}
          />
        )
        : null}
    </Layout>
  );
}

const when = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : `${d.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })} UTC`;
};

export function OrderPage(props: { identity: string; site: Site; order: OrderView }) {
  const { order } = props;
  return (
    <Layout identity={props.identity} site={props.site} title={`Order #${order.number}`} nav={<Nav />}>
      <section class="card receipt">
        <div class="card-body">
          <div class="receipt-head">
            <div class="check" aria-hidden="true">✓</div>
            <div>
              <h1>Order #{order.number}</h1>
              <p class="muted">Thank you — this order is confirmed.</p>
            </div>
          </div>
          <table class="lines">
            <tbody>
              <tr>
                <th scope="row">Item</th>
                <td>{order.name}</td>
              </tr>
              <tr>
                <th scope="row">Quantity</th>
                <td>{formatCount(order.quantity)}</td>
              </tr>
              <tr>
                <th scope="row">Unit price</th>
                <td>{formatMoney(order.unit_price)}</td>
              </tr>
              <tr>
                <th scope="row">Placed</th>
                <td>{when(order.created_at)}</td>
              </tr>
              <tr class="total">
                <th scope="row">Total</th>
                <td>{formatMoney(Math.round(order.unit_price * order.quantity * 100) / 100)}</td>
              </tr>
            </tbody>
          </table>
          <div class="actions">
            <a class="btn" href="/">Continue shopping</a>
          </div>
        </div>
      </section>
    </Layout>
  );
}
