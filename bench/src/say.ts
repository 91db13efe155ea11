// What the bench says while it runs: to stderr, one line a step; a run's figures and
// its CPU per request, tier by tier.
import type { WrkResult } from "./wrk.ts";

export const say = (s: string) => process.stderr.write(`${s}\n`);

/**
 * CPU µs per request of each process (CPU seconds over a run of `requests` requests).
 *
 * @example usPerRequest({ api: 0.5 }, 10_000) // { api: 50 }
 */
export const usPerRequest = (cpu: Record<string, number>, requests: number): Record<string, number> =>
  Object.fromEntries(
    Object.entries(cpu).map(([n, seconds]) => [n, Math.round((seconds / Math.max(1, requests)) * 1e6)]),
  );

/** CPU µs per request of these processes together (all of them when no names are given). */
export const usTogether = (cpu: Record<string, number>, requests: number, names = Object.keys(cpu)) =>
  Math.round((names.reduce((t, n) => t + (cpu[n] ?? 0), 0) / Math.max(1, requests)) * 1e6);

/**
 * A run's line: throughput, latency, errors, and CPU µs per request in all and for `tiers`.
 *
 * @example say(runLine("orders", r, cpu, ["api", "db"]))
 */
export function runLine(scenario: string, r: WrkResult, cpu: Record<string, number>, tiers: string[]) {
  const each = tiers.map((n) => `${n.replace(" (launcher)", "")} ${usTogether(cpu, r.requests, [n])}`);
  return `  ${scenario.padEnd(12)} c=${String(r.connections).padStart(3)}  ${
    r.rps.toFixed(0).padStart(6)
  } req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  CPU µs/request: ${
    usTogether(cpu, r.requests)
  } (${each.join(", ")})`;
}
