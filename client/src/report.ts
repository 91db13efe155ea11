// The final report: one plain object (what runClient returns and --json prints) and
// its text rendering for people.
import type { ClientOptions } from "./options.ts";
import type { RestocksSeen } from "./restocks.ts";
import { LAB_SECTION, RESTOCK_HINT, type SoldOut } from "./sold-out.ts";
import type { Mismatch, PlacedOrder, Verification } from "./session.ts";
import {
  type KindStats,
  type LatencySummary,
  REQUEST_KINDS,
  type RequestKind,
  type RunStats,
} from "./stats.ts";

export type KindReport = {
  count: number;
  outcomes: { ok: number; not_found: number; out_of_stock: number };
  /** Unexpected errors by kind, e.g. {"status 503": 2, "timeout": 1}. */
  errors: Record<string, number>;
  error_count: number;
  latency_ms: Omit<LatencySummary, "count">;
  throughput_per_s: number;
};

export type Report = {
  /** False on any unexpected error or order mismatch. */
  ok: boolean;
  /** Why ok is false, in words. */
  failures: string[];
  url: string;
  seed: number;
  sessions: number;
  /** Per session; null when only the duration limited the run. */
  iterations: number | null;
  p: number;
  duration_limit_s: number | null;
  timeout_s: number;
  started_at: string;
  elapsed_s: number;
  /** True when the run was stopped (Ctrl-C / abort signal) before its limits. */
  interrupted: boolean;
  requests: Record<RequestKind, KindReport>;
  total: { count: number; error_count: number; throughput_per_s: number };
  orders: {
    placed: number;
    verified: number;
    /** Lookups that failed with an error, so the order could not be checked. */
    unverified: number;
    mismatched: number;
    /** Units bought per product: what the stock should have gone down by. */
    quantity_by_product: Record<string, number>;
  };
  mismatches: Mismatch[];
  /** Stock that went up between two reads of a product (the store's restocking, or an admin). */
  restocks_seen: RestocksSeen;
  /** Products the client found at 0, and the purchases it skipped for it. */
  sold_out: SoldOut;
  /** First message seen for each error, keyed "<request> <kind>". */
  error_samples: Record<string, string>;
};

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function kindReport(s: KindStats): KindReport {
  const { count: _count, ...latency } = s.latency.summary();
  return {
    count: s.count,
    outcomes: { ...s.outcomes },
    errors: Object.fromEntries([...s.errors].sort(([a], [b]) => a.localeCompare(b))),
    error_count: s.errorCount,
    latency_ms: latency,
    throughput_per_s: round(s.throughput(), 1),
  };
}

export type ReportInput = {
  options: ClientOptions;
  stats: RunStats;
  orders: readonly PlacedOrder[];
  verification: Verification;
  /** Default: none seen. */
  restocks?: RestocksSeen;
  /** Default: nothing found sold out. */
  soldOut?: SoldOut;
  startedAt: Date;
  elapsedMs: number;
  interrupted: boolean;
};

export function buildReport(input: ReportInput): Report {
  const { options, stats, orders, verification } = input;
  const requests = Object.fromEntries(REQUEST_KINDS.map((k) => [k, kindReport(stats[k])])) as Record<
    RequestKind,
    KindReport
  >;
  const count = REQUEST_KINDS.reduce((n, k) => n + requests[k].count, 0);
  const errorCount = REQUEST_KINDS.reduce((n, k) => n + requests[k].error_count, 0);
  const byProduct: Record<string, number> = {};
  for (const o of [...orders].sort((a, b) => a.name.localeCompare(b.name))) {
    byProduct[o.name] = (byProduct[o.name] ?? 0) + o.quantity;
  }
  const samples: Record<string, string> = {};
  for (const k of REQUEST_KINDS) {
    for (const [kind, msg] of stats[k].errorSamples) samples[`${k} ${kind}`] = msg;
  }

  const failures: string[] = [];
  if (errorCount > 0) failures.push(`${errorCount} unexpected error${errorCount === 1 ? "" : "s"}`);
  const mismatched = verification.mismatches.length;
  if (mismatched > 0) failures.push(`${mismatched} order mismatch${mismatched === 1 ? "" : "es"}`);

  return {
    ok: failures.length === 0,
    failures,
    url: options.url,
    seed: options.seed,
    sessions: options.sessions,
    iterations: Number.isFinite(options.iterations) ? options.iterations : null,
    p: options.p,
    duration_limit_s: options.duration,
    timeout_s: options.timeout,
    started_at: input.startedAt.toISOString(),
    elapsed_s: round(input.elapsedMs / 1000, 3),
    interrupted: input.interrupted,
    requests,
    total: {
      count,
      error_count: errorCount,
      throughput_per_s: input.elapsedMs > 0 ? round(count / (input.elapsedMs / 1000), 1) : 0,
    },
    orders: {
      placed: orders.length,
      verified: verification.verified,
      unverified: verification.unverified,
      mismatched,
      quantity_by_product: byProduct,
    },
    mismatches: verification.mismatches,
    restocks_seen: input.restocks ?? { count: 0, by_product: {} },
    sold_out: input.soldOut ??
      { products: [], products_read: 0, skipped_purchases: 0, all_sold_out_after_s: null },
    error_samples: samples,
  };
}

export const formatJson = (r: Report): string => JSON.stringify(r, null, 2);

const ms = (x: number | null) => (x === null ? "-" : x.toFixed(2));

/** A fixed-width table, left column left-aligned, the rest right-aligned. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd()
  );
}

const MAX_LISTED = 20;

export function formatText(r: Report): string {
  const out: string[] = [];
  const iterations = r.iterations === null
    ? "unlimited iterations"
    : `${r.iterations} iteration${r.iterations === 1 ? "" : "s"}`;
  const limit = r.duration_limit_s === null ? "" : `, limit ${r.duration_limit_s} s`;
  out.push(`Bazaar load client: ${r.url}`);
  out.push(
    `${r.sessions} session${
      r.sessions === 1 ? "" : "s"
    } × ${iterations}, p ${r.p}, seed ${r.seed}, timeout ${r.timeout_s} s${limit}`,
  );
  out.push(`ran ${r.elapsed_s.toFixed(2)} s from ${r.started_at}${r.interrupted ? " (interrupted)" : ""}`);
  out.push("");
  const rows = [[
    "request",
    "count",
    "ok",
    "not found",
    "out of stock",
    "errors",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "req/s",
  ]];
  for (const [name, k] of Object.entries(r.requests)) {
    rows.push([
      name,
      String(k.count),
      String(k.outcomes.ok),
      String(k.outcomes.not_found),
      String(k.outcomes.out_of_stock),
      String(k.error_count),
      ms(k.latency_ms.p50),
      ms(k.latency_ms.p90),
      ms(k.latency_ms.p99),
      ms(k.latency_ms.max),
      k.throughput_per_s.toFixed(1),
    ]);
  }
  rows.push([
    "total",
    String(r.total.count),
    "",
    "",
    "",
    String(r.total.error_count),
    "",
    "",
    "",
    "",
    r.total.throughput_per_s.toFixed(1),
  ]);
  out.push(...table(rows));
  out.push("");
  const o = r.orders;
  out.push(
    `orders: ${o.placed} placed, ${o.verified} verified, ${o.mismatched} mismatched${
      o.unverified ? `, ${o.unverified} not checked (lookup failed)` : ""
    }`,
  );
  const bought = Object.entries(o.quantity_by_product).map(([n, q]) => `${n} ${q}`);
  if (bought.length) out.push(`bought: ${bought.join(", ")}`);
  // Only when there were any: a shop without restocking (the default) sees none.
  const restocked = Object.entries(r.restocks_seen.by_product).map(([n, c]) => `${n} ${c}`);
  if (restocked.length) out.push(`restocks seen: ${r.restocks_seen.count} (${restocked.join(", ")})`);
  // Only when it cost purchases: a run that emptied the shop and went on buying nothing.
  const s = r.sold_out;
  if (s.skipped_purchases > 0) {
    const when = s.all_sold_out_after_s === null
      ? ""
      : `; all ${s.products_read} products read were at 0 ${s.all_sold_out_after_s} s into the run`;
    out.push(
      `sold out: ${s.products.length} of ${s.products_read} products at 0 at the end (${
        s.products.join(", ")
      })${when}; ${s.skipped_purchases} purchases not made for want of stock`,
      r.restocks_seen.count
        ? `  the restocks seen did not keep up with this load: a shorter RESTOCK_EVERY_S or a higher RESTOCK_TO (${LAB_SECTION})`
        : `  nothing restocked it: ${RESTOCK_HINT}`,
    );
  }

  const errorRows: string[][] = [];
  for (const [name, k] of Object.entries(r.requests)) {
    for (const [kind, n] of Object.entries(k.errors)) {
      errorRows.push([`  ${name}`, kind, String(n), r.error_samples[`${name} ${kind}`] ?? ""]);
    }
  }
  if (errorRows.length === 0) out.push("errors: none");
  else {
    out.push("errors:");
    // Left-align the message column: it is text, not a number.
    const w = [0, 1, 2].map((i) => Math.max(...errorRows.map((row) => row[i]!.length)));
    for (const row of errorRows) {
      out.push(
        `${row[0]!.padEnd(w[0]!)}  ${row[1]!.padEnd(w[1]!)}  ${row[2]!.padStart(w[2]!)}  e.g. ${row[3]}`,
      );
    }
  }

  if (r.mismatches.length) {
    out.push("mismatches:");
    for (const m of r.mismatches.slice(0, MAX_LISTED)) {
      const actual = m.actual
        ? `got ${m.actual.name} × ${m.actual.quantity} (#${m.actual.number})`
        : "got nothing";
      out.push(
        `  order ${m.number}: ${m.reason}: placed ${m.expected.name} × ${m.expected.quantity}, ${actual}`,
      );
    }
    if (r.mismatches.length > MAX_LISTED) {
      out.push(`  … and ${r.mismatches.length - MAX_LISTED} more (see --json)`);
    }
  }
  out.push("");
  out.push(r.ok ? "result: OK" : `result: FAILED (${r.failures.join(", ")})`);
  return out.join("\n");
}
