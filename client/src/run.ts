// runClient: the whole run — sessions in parallel, then the order check, then the
// report. The CLI and in-process callers (system tests, the benchmark) share it.
import { type ClientInput, type ClientOptions, resolveOptions } from "./options.ts";
import { Progress } from "./progress.ts";
import { buildReport, type Report } from "./report.ts";
import { RestockWatch } from "./restocks.ts";
import { type PlacedOrder, runSession, verifyOrders } from "./session.ts";
import { SoldOutWatch } from "./sold-out.ts";
import { newRunStats } from "./stats.ts";

export type RunControl = {
  /** Aborting stops new iterations; the orders placed so far are still checked. */
  signal?: AbortSignal;
  /** Where progress goes (default stderr); ignored when options.quiet. */
  progressStream?: { isTTY?: boolean; write(s: string): unknown };
};

/** Runs the load client with options as `--…` would give them; resolves to the report. */
export async function runClient(input: ClientInput = {}, control: RunControl = {}): Promise<Report> {
  return runResolved(resolveOptions(input), control);
}

export async function runResolved(options: ClientOptions, control: RunControl = {}): Promise<Report> {
  const stats = newRunStats();
  const orders: PlacedOrder[] = [];
  const restocks = new RestockWatch();
  const ctx = { baseUrl: options.url, timeoutMs: Math.round(options.timeout * 1000) };
  const startedAt = new Date();
  const t0 = performance.now();
  const soldOut = new SoldOutWatch(t0);
  const deadline = options.duration === null ? Infinity : t0 + options.duration * 1000;
  const stop = () => control.signal?.aborted === true || performance.now() >= deadline;
  let phase = "running";
  const progress = options.quiet ? null : new Progress(
    { stats, orders: () => orders.length, phase: () => phase, soldOut: () => soldOut.now() },
    control.progressStream,
  );
  try {
    await Promise.all(
      Array.from(
        { length: options.sessions },
        (_, index) =>
          runSession(
            ctx,
            stats,
            { index, seed: options.seed, iterations: options.iterations, p: options.p, stop },
            orders,
            restocks,
            soldOut,
          ),
      ),
    );
    // The check runs even past the duration: an unchecked order proves nothing.
    phase = "checking orders";
    const verification = await verifyOrders(ctx, stats, orders, options.sessions);
    return buildReport({
      options,
      stats,
      orders,
      verification,
      restocks: restocks.summary(),
      soldOut: soldOut.summary(),
      startedAt,
      elapsedMs: performance.now() - t0,
      interrupted: control.signal?.aborted === true,
    });
  } finally {
    progress?.stop();
  }
}
