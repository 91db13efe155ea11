// Order numbers as people and the lab's clients see them, and the database's key.
//
// The lab numbers orders from 0 ("order_id starts from 0 and is incremental"); the
// orders table's AUTO_INCREMENT key starts at 1 (MySQL treats an inserted 0 as "give
// me the next one"). The key stays as it is: the internal APIs (api, admin-api) speak
// keys, and every tier that shows or reads a number — web's JSON and pages, the admin
// site's orders, the benchmark's lookups — converts here and nowhere else.
import * as v from "valibot";

/** The number shown for the order with this database key: the first order (key 1) is 0. */
export const publicOrderNumber = (key: number) => key - 1;

/** The database key of the order shown as `number`. */
export const orderKey = (number: number) => number + 1;

/** A database key as the internal APIs answer it. */
export const OrderKey = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/** A key from an internal API's answer, as its public number. */
export const PublicFromKey = v.pipe(OrderKey, v.transform(publicOrderNumber));

/**
 * A public order number in a path or a form: 0, 1, 2, … as digits (no sign, no
 * leading zero, no exponent); one whose key would not be a safe integer is too large.
 */
export const PublicOrderNumber = v.pipe(
  v.string(),
  v.regex(/^(0|[1-9][0-9]{0,15})$/, "must be a whole number, 0 or more"),
  v.transform(Number),
  v.check((n) => Number.isSafeInteger(orderKey(n)), "is too large"),
);
