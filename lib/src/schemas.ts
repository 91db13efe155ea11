// The one place for every data rule of docs/design.md ("Data"): used to check request
// bodies, admin forms and rows read back from MySQL alike.
import * as v from "valibot";
import { nameKey } from "./name-key.ts";

// Characters a name may not hold: controls (Cc), format characters (Cf: zero-width
// spaces and joiners, the bidi marks, embeddings, overrides and isolates such as
// U+202E), line and paragraph separators, and lone surrogates (no text at all, and
// the database refuses them). Invisible or reordering characters would let two
// items look the same, or one name display as another.
const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** A name: what it means to be "the same name" is its key (name-key.ts). */
/** Characters as the contract and the column (VARCHAR(64) in utf8mb4) count them: code points, not UTF-16 units. */
const characters = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
const atMost = (n: number) => v.check((s: string) => characters(s) <= n, `must be at most ${n} characters`);

export const ItemName = v.pipe(
  v.string("must be text"),
  // Surrounding spaces are not part of a name, wherever it is given: a form, JSON, a URL.
  v.trim(),
  v.minLength(1, "is required"),
  atMost(64),
  // A URL's path segment "." or ".." is not a segment at all (the item could never be
  // corrected or deleted by its address).
  v.check((s) => s !== "." && s !== "..", 'must not be "." or ".."'),
  v.check(
    (s) => !FORBIDDEN_IN_NAMES.test(s),
    (issue) =>
      `must not contain control, invisible or bidi characters (${
        codePoint(String(issue.input).match(FORBIDDEN_IN_NAMES)![0])
      })`,
  ),
  // Only characters the key ignores (e.g. U+3164, a blank Hangul filler): no name.
  v.check((s) => nameKey(s) !== "", "must contain a visible character"),
);

export const MAX_STOCK = 1_000_000;
export const Stock = v.pipe(
  v.number("must be a number"),
  v.integer("must be a whole number"),
  v.minValue(0, "must not be negative"),
  v.maxValue(MAX_STOCK, "must be at most 1,000,000"),
);

/** How much a restock or a new item adds: at least one. */
export const StockToAdd = v.pipe(
  v.number("must be a number"),
  v.integer("must be a whole number"),
  v.minValue(1, "must be at least 1"),
  v.maxValue(MAX_STOCK, "must be at most 1,000,000"),
);

export const Price = v.pipe(
  v.number("must be a number"),
  v.finite("must be a number"),
  v.minValue(0.01, "must be at least 0.01"),
  v.maxValue(100_000, "must be at most 100000.00"),
  // Checked on the number's own digits (the shortest text that reads back as it):
  // a tolerance let 15.990000001 through, to be stored rounded as 15.99. A JSON
  // number is a double, so digits past its ~16 significant ones are not seen by
  // any tier: 15.99000000000000000001 is the double 15.99 and is stored as such.
  v.check((n) => /^\d+(\.\d{1,2})?$/.test(String(n)), "must have at most two decimals"),
);

export const OrderQuantity = v.pipe(
  v.number("must be a number"),
  v.integer("must be a whole number"),
  v.minValue(1, "must be at least 1"),
  v.maxValue(1000, "must be at most 1000"),
);

export const OrderNumber = v.pipe(
  v.string(),
  v.regex(/^[1-9][0-9]{0,15}$/, "must be a positive whole number"),
  v.transform(Number),
  v.safeInteger("is too large"),
);

// Rows as the apps serve them (the database's view, checked before it is served).
export const Item = v.object({ name: ItemName, quantity: Stock, price: Price });
export type Item = v.InferOutput<typeof Item>;
export const ItemList = v.array(Item);

export const Order = v.object({
  number: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  name: ItemName,
  quantity: OrderQuantity,
  unit_price: Price,
  created_at: v.pipe(v.string(), v.isoTimestamp()),
});
export type Order = v.InferOutput<typeof Order>;

/** One page of orders, newest first, and how many there are in all. */
export const OrderPage = v.object({
  orders: v.array(Order),
  page: v.number(),
  per_page: v.number(),
  total: v.number(),
});
export type OrderPage = v.InferOutput<typeof OrderPage>;

/**
 * How an admin write reached the store's cache: cleared by admin-api itself, or (it
 * could not reach Redis) by the relay, waited for before the answer (docs/design.md, Cache).
 */
export const CacheCleared = v.picklist(["cleared", "relayed"]);
export type CacheCleared = v.InferOutput<typeof CacheCleared>;

const inserted = { action: v.literal("inserted"), item: Item };
const restocked = {
  action: v.literal("restocked"),
  item: Item,
  previous_quantity: v.number(),
  previous_price: v.number(),
};
/** What adding an item did, before the cache is cleared. */
export type AddedItem =
  | v.InferOutput<v.ObjectSchema<typeof inserted, undefined>>
  | v.InferOutput<v.ObjectSchema<typeof restocked, undefined>>;

// What every admin write's answer adds: how the cache was cleared, and whether this
// is the answer already given to an earlier request with the same Idempotency-Key
// (then nothing was changed this time: admin-api/src/once.ts).
const written = { cache: CacheCleared, replayed: v.boolean() };

/** Result of adding an item: which of the two things happened, and how the cache was cleared. */
export const Added = v.variant("action", [
  v.object({ ...inserted, ...written }),
  v.object({ ...restocked, ...written }),
]);
export type Added = v.InferOutput<typeof Added>;

/** Result of a correction or a deletion: the item (as it is now, or as it was), and how the cache was cleared. */
export const Changed = v.object({ item: Item, ...written });
export type Changed = v.InferOutput<typeof Changed>;

// Request bodies.
/**
 * A purchase. `price`, when given, is the unit price the buyer was shown: a different
 * price now refuses it (409 "the price changed to …"), nothing bought. The lab's
 * clients send none.
 */
export const OrderRequest = v.object({ name: ItemName, quantity: OrderQuantity, price: v.optional(Price) });
export type OrderRequest = v.InferOutput<typeof OrderRequest>;

/**
 * Add an item: a new name is inserted (price required), a known one restocked. A
 * restock changes the price only with `was_price`, the price the caller saw, still the item's.
 */
export const AddItem = v.object({
  name: ItemName,
  quantity: StockToAdd,
  price: v.optional(Price),
  was_price: v.optional(Price),
});
export type AddItem = v.InferOutput<typeof AddItem>;

/**
 * Correct an item: set its quantity and/or price. `was_quantity` / `was_price`: the
 * values the corrector last saw; if the item has others now (sold or changed
 * meanwhile), nothing is changed (409 with the current values), so a correction made
 * from a stale page never overwrites sales.
 */
export const CorrectItem = v.pipe(
  v.object({
    quantity: v.optional(Stock),
    price: v.optional(Price),
    was_quantity: v.optional(Stock),
    was_price: v.optional(Price),
  }),
  v.check((b) => b.quantity !== undefined || b.price !== undefined, "give quantity or price"),
);
export type CorrectItem = v.InferOutput<typeof CorrectItem>;

/** A request id, as the apps keep them (lib/src/log.ts), to look up the order it placed. */
export const RequestIdQuery = v.object({
  request_id: v.pipe(
    v.string("is required"),
    v.regex(/^[\w\-=:.]{1,128}$/, "must be a request id (letters, digits, _ - = : . up to 128)"),
  ),
});

export const Paging = v.object({
  page: v.optional(
    v.pipe(v.string(), v.regex(/^[1-9][0-9]{0,5}$/, "must be a positive whole number"), v.transform(Number)),
    "1",
  ),
  per_page: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]{1,3}$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1, "must be at least 1"),
      v.maxValue(100, "must be at most 100"),
    ),
    "20",
  ),
});

/** How many items a page of the catalogue shows unless asked otherwise (the storefront's grid). */
export const PER_PAGE = 24;
/** The most a page of the catalogue holds. */
export const MAX_PER_PAGE = 100;

const wholeParam = (max: number, fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]{1,9}$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1, "must be at least 1"),
      v.maxValue(max, `must be at most ${max}`),
    ),
    fallback,
  );

/** A search text: what a name must contain (compared by name key); "" for every item. */
export const SearchText = v.pipe(v.string("must be text"), v.trim(), atMost(64));

/**
 * An admin write's Idempotency-Key: 8 to 64 letters, digits, `-` or `_` (a UUID fits).
 * The admin forms send a new one with each form they render.
 */
export const IdempotencyKey = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8 to 64 letters, digits, - or _"),
);

/** The headers an admin write reads (names in lower case, as Hono gives them). */
export const WriteHeaders = v.object({ "idempotency-key": v.optional(IdempotencyKey) });

/** Which page of the catalogue (`?page=2&per_page=24&q=tu`): from the query string. */
export const CatalogQuery = v.object({
  page: wholeParam(1_000_000, "1"),
  per_page: wholeParam(MAX_PER_PAGE, String(PER_PAGE)),
  q: v.optional(SearchText, ""),
});
export type CatalogQuery = v.InferOutput<typeof CatalogQuery>;

/** One page of the catalogue: its items in name order, and how many there are in all. */
export const CatalogPage = v.object({
  items: ItemList,
  page: v.number(),
  per_page: v.number(),
  total: v.number(),
  q: v.string(),
});
export type CatalogPage = v.InferOutput<typeof CatalogPage>;

/** The admin's inventory page: a page of the catalogue, and figures over every item. */
export const InventoryPage = v.object({
  ...CatalogPage.entries,
  summary: v.object({ items: v.number(), units: v.number(), out_of_stock: v.number(), value: v.number() }),
});
export type InventoryPage = v.InferOutput<typeof InventoryPage>;

const ETag = v.pipe(v.string(), v.maxLength(128));

/** The most entries one check asks about (web sends more as several). */
export const MAX_CHECK = 500;

/**
 * Many reads revalidated at once (web's coalesced check, POST /items/check): each with
 * the ETag the caller holds, if any.
 */
export const CatalogCheck = v.object({
  items: v.pipe(v.array(v.object({ name: v.string(), etag: v.optional(ETag) })), v.maxLength(MAX_CHECK)),
  pages: v.pipe(
    v.array(v.object({
      page: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)),
      per_page: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_PER_PAGE)),
      q: SearchText,
      etag: v.optional(ETag),
    })),
    v.maxLength(MAX_CHECK),
  ),
});
export type CatalogCheck = v.InferOutput<typeof CatalogCheck>;

/** Each answer of a check: the current ETag and, unless the caller holds it already, the value. */
const Checked = <S extends v.GenericSchema>(value: S) =>
  v.union([
    v.object({ etag: v.string(), value }),
    v.object({ etag: v.string(), unchanged: v.literal(true) }),
    v.object({ missing: v.literal(true) }),
  ]);
export const CatalogCheckReply = v.object({
  items: v.array(Checked(Item)),
  pages: v.array(Checked(CatalogPage)),
});
export type CatalogCheckReply = v.InferOutput<typeof CatalogCheckReply>;

const FeedId = v.pipe(v.string(), v.maxLength(64));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));

/**
 * A web server's renewal of its grant to serve the catalogue from memory, which also
 * says how far it has applied the change feed (POST /items/grant: lib/src/data/feed.ts).
 */
export const GrantRequest = v.object({
  web: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  feed: FeedId,
  applied: Seq,
  /** The grant given back: this web server no longer answers from memory (its stream was lost). */
  release: v.optional(v.boolean()),
});
export type GrantRequest = v.InferOutput<typeof GrantRequest>;

/** The renewal's answer: granted for `ms` (counted from before it was asked) once the feed is applied up to `seq`. */
export const GrantReply = v.object({ feed: FeedId, seq: Seq, granted: v.boolean(), ms: Seq });
export type GrantReply = v.InferOutput<typeof GrantReply>;

/**
 * What the change stream (GET /items/changes, server-sent events) carries: where the
 * feed stands ("hello" first, "reset" when the feed starts over: everything is to be
 * forgotten), and changes, each naming the items (stems) it touched — and `list` when
 * the list itself changed (an insert or a delete) — or "*" for all.
 */
export const FeedEvent = v.variant("type", [
  v.object({ type: v.picklist(["hello", "reset"]), feed: FeedId, seq: Seq }),
  v.object({
    type: v.literal("changes"),
    feed: FeedId,
    changes: v.array(v.object({
      seq: Seq,
      stems: v.union([v.literal("*"), v.array(v.string())]),
      list: v.optional(v.literal(true)),
    })),
  }),
]);
export type FeedEvent = v.InferOutput<typeof FeedEvent>;

/** Field name → first message, and one readable line naming every bad field. */
export function describeIssues(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]) {
  const flat = v.flatten(issues);
  const fields: Record<string, string> = {};
  for (const [key, messages] of Object.entries(flat.nested ?? {})) {
    if (messages?.[0]) fields[key] = messages[0];
  }
  const parts = Object.entries(fields).map(([k, m]) => `${k}: ${m}`);
  if (flat.root?.[0]) parts.unshift(flat.root[0]);
  return { message: parts.join("; ") || "invalid input", fields };
}
