// A big catalogue (--items N): N more items loaded straight into the database in one
// statement, named Item 000001 … (the name key is the lowercased name: ASCII only),
// quantity 1000, price 9.99. db/init.sql's insert trigger writes one outbox row per
// item, so the api's relay, finding more than a cycle's batch, drops the whole
// catalogue once (api/src/relay.ts): every entry is read from MySQL again after it.
import type { Stack } from "../../local/src/index.ts";

const digits = (count: number) => Math.max(6, String(count).length);

/** The i-th loaded item's name (1-based). */
export const itemName = (i: number, count: number) => `Item ${String(i).padStart(digits(count), "0")}`;

/** The i-th item's path as a Lua string.format pattern (the space escaped), for wrk.ts `mixed`. */
export const luaPathFormat = (count: number) => `/products/Item%%20%0${digits(count)}d`;

/** `n` of the loaded names, evenly spread over all of them. */
export const sampleNames = (count: number, n: number) =>
  Array.from({ length: Math.min(n, count) }, (_, k) => itemName(1 + Math.floor((k * count) / n), count));

/**
 * Inserts the items in one statement (MariaDB's sequence engine gives the numbers:
 * the bench's stack is always MariaDB), then waits until the relay has applied the
 * outbox. → seconds the insert took, and until the outbox was empty.
 */
export async function loadItems(stack: Stack, count: number) {
  const name = `CONCAT('Item ', LPAD(seq, ${digits(count)}, '0'))`;
  const t0 = performance.now();
  await stack.sql(
    `INSERT INTO bazaar.items (name, name_key, quantity, price) SELECT ${name}, LOWER(${name}), 1000, 9.99 FROM bazaar.seq_1_to_${count}`,
  );
  const inserted = (performance.now() - t0) / 1000;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const out = await stack.sql("SELECT COUNT(*) FROM bazaar.catalog_outbox");
    if (Number(out.trim().split("\n")[1]) === 0) break;
    await Bun.sleep(100);
  }
  return { insertSeconds: inserted, relayedSeconds: (performance.now() - t0) / 1000 };
}
