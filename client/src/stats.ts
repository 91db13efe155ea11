// Latency recording and nearest-rank percentiles.

/**
 * Nearest-rank percentile of values sorted ascending: the smallest value such that
 * at least p% of the values are less than or equal to it (rank = ceil(p/100 × n)).
 * It is always one of the recorded values, never an interpolation. null when empty.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1]!;
}

export type LatencySummary = {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
};

/** Keeps every sample (8 bytes each): exact percentiles matter more than memory here. */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    // Float64Array sorts numerically (a plain array would sort as strings).
    const sorted = this.samples.slice(0, this.n).sort();
    const round = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    return {
      count: this.n,
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(percentile(sorted, 100)),
    };
  }
}

/** The three kinds of request the client makes. */
export const REQUEST_KINDS = ["query", "buy", "lookup"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Outcomes the design allows; anything else is an error, counted by kind. */
export type Outcome = "ok" | "not_found" | "out_of_stock";

/** Counters of one request kind. */
export class KindStats {
  readonly latency = new LatencyRecorder();
  count = 0;
  outcomes: Record<Outcome, number> = { ok: 0, not_found: 0, out_of_stock: 0 };
  errors = new Map<string, number>();
  /** First message seen for each error kind, to make the report actionable. */
  errorSamples = new Map<string, string>();
  firstStart = Infinity;
  lastEnd = -Infinity;

  /** Marks the span of this kind's activity, for its throughput. */
  span(start: number, end: number): void {
    if (start < this.firstStart) this.firstStart = start;
    if (end > this.lastEnd) this.lastEnd = end;
  }

  outcome(o: Outcome): void {
    this.count++;
    this.outcomes[o]++;
  }

  error(kind: string, detail: string): void {
    this.count++;
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    if (!this.errorSamples.has(kind)) this.errorSamples.set(kind, detail);
  }

  get errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  /** Requests per second over the span from this kind's first start to its last end. */
  throughput(): number {
    const seconds = (this.lastEnd - this.firstStart) / 1000;
    return this.count > 0 && seconds > 0 ? this.count / seconds : 0;
  }
}

export type RunStats = Record<RequestKind, KindStats>;

export const newRunStats = (): RunStats => ({
  query: new KindStats(),
  buy: new KindStats(),
  lookup: new KindStats(),
});
