// Restocks the client saw happen: a product's stock higher on a read that began after
// an earlier read of it had ended. The client only ever takes stock away, so stock
// that went up was added by someone else — the store's own restocking (admin-api's
// RESTOCK_EVERY_S / RESTOCK_TO, the lab's part 3) or an admin.
//
// Reads that overlap are not compared: either may have been answered first, so a
// higher quantity on one of them proves nothing. That can miss a restock, never
// invent one; and after one, only the first later read to show it counts it.

export type RestocksSeen = {
  count: number;
  /** By the store's spelling of the name, sorted by name. */
  by_product: Record<string, number>;
};

export class RestockWatch {
  /** Per product (ignoring case, as the store matches names): the read that ended last. */
  private last = new Map<string, { quantity: number; endedAt: number }>();
  private seen = new Map<string, number>();

  /** A read of `name` that started and ended at these times (performance.now()) and showed `quantity`. */
  observe(name: string, quantity: number, startedAt: number, endedAt: number): void {
    const key = name.toLowerCase();
    const before = this.last.get(key);
    if (before && startedAt > before.endedAt && quantity > before.quantity) {
      this.seen.set(name, (this.seen.get(name) ?? 0) + 1);
    }
    if (!before || endedAt > before.endedAt) this.last.set(key, { quantity, endedAt });
  }

  summary(): RestocksSeen {
    const entries = [...this.seen].sort(([a], [b]) => a.localeCompare(b));
    return { count: entries.reduce((n, [, c]) => n + c, 0), by_product: Object.fromEntries(entries) };
  }
}
