// Stock the client found gone. With its defaults (8 sessions buying 30 % of the time)
// it empties the seeded shop (10 × 100) in a few seconds, and from then on it reads
// and buys nothing: a purchase needs stock. That is the store working as it should,
// but a run that stops buying must say so, and what brings the stock back — the
// store's timed restocking (RESTOCK_EVERY_S, RESTOCK_TO: the lab's part 3) or /admin.

export type SoldOut = {
  /** Products whose latest read showed no stock, by the store's spelling, sorted. */
  products: string[];
  /** Products read at all (in stock or not). */
  products_read: number;
  /** Purchases the client was about to make but could not: the product read at 0. */
  skipped_purchases: number;
  /** Seconds into the run when every product read was at 0 at once, first; null if never. */
  all_sold_out_after_s: number | null;
};

export class SoldOutWatch {
  /** Per product (ignoring case, as the store matches names): the read that ended last. */
  private last = new Map<string, { name: string; quantity: number; endedAt: number }>();
  private skipped = 0;
  private allAt: number | null = null;

  constructor(private readonly t0 = performance.now()) {}

  /** A read of `name` that ended at `endedAt` (performance.now()) and showed `quantity`. */
  observe(name: string, quantity: number, endedAt: number): void {
    const key = name.toLowerCase();
    const before = this.last.get(key);
    if (before && before.endedAt > endedAt) return;
    this.last.set(key, { name, quantity, endedAt });
    if (this.allAt === null && quantity <= 0 && [...this.last.values()].every((p) => p.quantity <= 0)) {
      this.allAt = endedAt;
    }
  }

  /** A purchase the client did not make: the product was read at 0. */
  skip(): void {
    this.skipped++;
  }

  soldOut(): string[] {
    return [...this.last.values()].filter((p) => p.quantity <= 0).map((p) => p.name).sort((a, b) =>
      a.localeCompare(b)
    );
  }

  /** How many products are at 0 of those read, and whether purchases are being skipped for it. */
  now(): { soldOut: number; read: number; skipped: number } {
    return { soldOut: this.soldOut().length, read: this.last.size, skipped: this.skipped };
  }

  summary(): SoldOut {
    return {
      products: this.soldOut(),
      products_read: this.last.size,
      skipped_purchases: this.skipped,
      all_sold_out_after_s: this.allAt === null ? null : Math.round((this.allAt - this.t0) / 100) / 10,
    };
  }
}

/** Where the restock settings are explained. */
export const LAB_SECTION = 'README, "For the toy-store lab"';
/** What brings the stock back, for the progress and the report. */
export const RESTOCK_HINT = `restock with RESTOCK_EVERY_S and RESTOCK_TO (${LAB_SECTION}) or in /admin`;
