// What each process costs: resident memory (VmRSS) and CPU time, read from /proc.
// The stack's processes are named by service; the bench adds its own and wrk's.
import { readFileSync } from "node:fs";

const TICK = 100; // USER_HZ on Linux

export const rssKb = (pid: number): number | undefined => {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

/** User + system CPU seconds the process has used so far. */
export const cpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return undefined;
  }
};

export type Pids = () => Record<string, number | undefined>;

/**
 * Each service of a stack by name (as its current run's pid), the bench itself, and
 * what `more` adds (the ceiling's).
 *
 * @example sampled(stackPids(stack), () => wrk(url, opts))
 */
export const stackPids = (
  stack: { services: readonly string[]; pid(name: string): number | undefined },
  more: Pids = () => ({}),
): Pids =>
() => ({
  ...Object.fromEntries(stack.services.map((s) => [s, stack.pid(s)])),
  "bench (launcher)": process.pid,
  ...more(),
});

/** Per-process peak RSS while a piece of work runs, sampled every `everyMs`. */
export async function sampled<T>(
  pids: Pids,
  work: () => Promise<T>,
  everyMs = 250,
): Promise<{ result: T; peakKb: Record<string, number>; cpu: Record<string, number> }> {
  const peakKb: Record<string, number> = {};
  const sample = () => {
    for (const [name, pid] of Object.entries(pids())) {
      const kb = pid === undefined ? undefined : rssKb(pid);
      if (kb !== undefined && kb > (peakKb[name] ?? 0)) peakKb[name] = kb;
    }
  };
  const cpuAt = () =>
    Object.fromEntries(
      Object.entries(pids()).map(([n, pid]) => [n, pid === undefined ? undefined : cpuSeconds(pid)]),
    );
  const before = cpuAt();
  const timer = setInterval(sample, everyMs);
  try {
    const result = await work();
    sample();
    const after = cpuAt();
    const cpu: Record<string, number> = {};
    for (const [n, a] of Object.entries(after)) {
      if (a !== undefined && before[n] !== undefined) cpu[n] = Math.round((a - before[n]!) * 100) / 100;
    }
    return { result, peakKb, cpu };
  } finally {
    clearInterval(timer);
  }
}

export const snapshotKb = (pids: Pids) =>
  Object.fromEntries(
    Object.entries(pids()).flatMap(([n, pid]) => {
      const kb = pid === undefined ? undefined : rssKb(pid);
      return kb === undefined ? [] : [[n, kb]];
    }),
  ) as Record<string, number>;

export type RssSample = { seconds: number; kb: Record<string, number> };

/** Resident memory of each process every `everyMs` while a piece of work runs, from its start to its end. */
export async function rssOver<T>(
  pids: Pids,
  work: () => Promise<T>,
  everyMs = 1000,
): Promise<{ result: T; samples: RssSample[] }> {
  const t0 = performance.now();
  const samples: RssSample[] = [];
  const sample = () =>
    samples.push({ seconds: Math.round((performance.now() - t0) / 100) / 10, kb: snapshotKb(pids) });
  sample();
  const timer = setInterval(sample, everyMs);
  try {
    const result = await work();
    sample();
    return { result, samples };
  } finally {
    clearInterval(timer);
  }
}
