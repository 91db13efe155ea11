// What a write pays for the web servers' memory: a purchase is answered only once
// every web server holding a grant has applied its change, or that grant has run out
// (lib/src/data/feed.ts; docs/internals.md, "Web's memory: leases"). Measured three
// ways: blocks of purchases one at a time through the store with the web servers'
// memory on and off in turn (web-1 and web-2 restarted with CATALOG_FROM_MEMORY=false:
// no grant, nothing to wait for); the same at 32 connections with wrk once each; then with web-1 paused
// (SIGSTOP) purchases through web-2, each waiting at most for web-1's grant to run out.
import { percentile } from "../../client/src/stats.ts";
import type { Stack } from "../../local/src/index.ts";
import { GRANT_MS } from "../../lib/src/grants.ts";
import { BENCH_ITEMS, ORDER_BODIES } from "./purchases.ts";
import { sampled, stackPids } from "./procs.ts";
import { say, usPerRequest } from "./say.ts";
import type { storeAdmin } from "./store.ts";
import { postJson, wrk, type WrkResult } from "./wrk.ts";

/** A purchase slower than one grant and this much more is past the paused bound. */
export const PAUSED_SLACK_MS = 50;
const WEBS = ["web-1", "web-2"] as const;

export type Latencies = { count: number; errors: number; p50: number; p90: number; p99: number; max: number };

/** CPU µs per purchase of each process of the stack (and the bench's own). */
export type CpuUs = Record<string, number>;

/** Purchases one at a time: how long each took, and the api's feed counts meanwhile. */
export type Sequential = Latencies & {
  /** The api's writes that waited for acknowledgements, and its polls of Redis for them. */
  waits: number;
  polls: number;
  /** Absent in results from before it was measured. */
  cpuPerPurchase?: CpuUs;
};

/** wrk's purchases at 32 connections, with CPU µs per purchase. */
export type AtConnections = WrkResult & { cpuPerPurchase?: CpuUs };

export type Memory = "on" | "off";
/** One block of purchases one at a time: each one's time, the api's counts, each process's CPU seconds. */
type Block = {
  memory: Memory;
  ms: number[];
  errors: number;
  waits: number;
  polls: number;
  cpu: Record<string, number>;
};

/** One pause of web-1: each purchase's time through web-2, in order, ms. */
export type PausedRound = { ms: number[]; errors: number };

export type Acks = {
  /** Purchases one at a time per block, and how many blocks with the memory on, then off, in turn. */
  purchases: number;
  cycles: number;
  /** Every block's purchases together, memory on and off; and each block's own, in the order run. */
  sequential: { on: Sequential; off: Sequential; blocks: (Latencies & { memory: Memory })[] };
  /** wrk's purchases at 32 connections, memory on and off (absent when not measured). */
  at32?: { on: AtConnections; off: AtConnections };
  paused: {
    grantMs: number;
    slackMs: number;
    /** How long web-1 stayed paused each round, ms. */
    pauseMs: number;
    rounds: PausedRound[];
  };
  /**
   * Each time a web server with its memory on got no grant when one was awaited (the
   * figures measured after it are not what they should be); absent in older results.
   */
  problems?: string[];
  /** Purchases acknowledged during all of the above, and the orders stored meanwhile (at least as many). */
  acknowledged: number;
  stored: number;
};

const round1 = (x: number) => Math.round(x * 100) / 100;

/**
 * p50/p90/p99/max (nearest rank) of latencies in ms.
 *
 * @example latencies([1, 2, 3], 0) // { count: 3, errors: 0, p50: 2, p90: 3, p99: 3, max: 3 }
 */
export function latencies(ms: number[], errors: number): Latencies {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => round1(percentile(sorted, p) ?? 0);
  return { count: ms.length, errors, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

/** One purchase (quantity 1 of a bench item) at `url`, timed in ms; null when it failed. */
async function purchase(url: string, i: number): Promise<number | null> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ORDER_BODIES[i % ORDER_BODIES.length],
    });
    await res.arrayBuffer();
    return res.ok ? performance.now() - t0 : null;
  } catch {
    return null;
  }
}

type Healthz = { lease?: { valid?: boolean; granted?: number }; feed?: { waits: number; polls: number } };
const healthz = async (url: string): Promise<Healthz> =>
  ((await (await fetch(`${url}/healthz`)).json()) as { data: Healthz }).data;

/**
 * Waits until each web server of `urls` holds a grant granted after `since` (its count
 * of grants); what it says of each one that got none in `timeoutMs` (the run goes on:
 * its figures are then marked).
 */
async function granted(urls: string[], since: number[] = urls.map(() => -1), timeoutMs = 10_000) {
  const end = performance.now() + timeoutMs;
  const missing: string[] = [];
  for (const [i, url] of urls.entries()) {
    for (;;) {
      const lease = (await healthz(url).catch(() => ({} as Healthz))).lease;
      if (lease?.valid && (lease.granted ?? 0) > since[i]!) break;
      if (performance.now() > end) {
        missing.push(
          `web-${i + 1} got no grant within ${timeoutMs / 1000} s (its lease: ${
            JSON.stringify(lease ?? null)
          })`,
        );
        say(`  ${missing.at(-1)}`);
        break;
      }
      await Bun.sleep(20);
    }
  }
  return missing;
}

const grantsOf = async (urls: string[]) =>
  Promise.all(urls.map(async (u) => (await healthz(u)).lease?.granted ?? 0));

export async function measureAcks(
  stack: Stack,
  admin: ReturnType<typeof storeAdmin>,
  { purchases = 100, cycles = 3, seconds = 4, rounds = 5, pauseMs = 1000 } = {},
): Promise<Acks> {
  const store = stack.urls.store;
  const webs = stack.urls.web;
  const after = await admin.lastOrderNumber();
  const pids = stackPids(stack);
  let acknowledged = 0;
  const problems: string[] = [];

  const blocks: Block[] = [];
  const block = async (memory: Memory) => {
    const feed = async () => (await healthz(stack.urls.api)).feed ?? { waits: 0, polls: 0 };
    const before = await feed();
    const ms: number[] = [];
    let errors = 0;
    const { cpu } = await sampled(pids, async () => {
      for (let i = 0; i < purchases; i++) {
        const t = await purchase(store, i);
        if (t === null) errors++;
        else ms.push(t);
      }
    });
    acknowledged += ms.length;
    const now = await feed();
    const b = { memory, ms, errors, waits: now.waits - before.waits, polls: now.polls - before.polls, cpu };
    blocks.push(b);
    const l = latencies(ms, errors);
    say(
      `  memory ${
        memory.padEnd(3)
      } ${l.count} purchases one at a time: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, errors ${errors}; api: ${b.waits} waits for acks, ${b.polls} polls`,
    );
  };
  const at32 = async (): Promise<AtConnections> => {
    const { result, cpu } = await sampled(
      pids,
      () => wrk(store, { connections: 32, seconds, script: postJson("/orders", ORDER_BODIES) }),
    );
    acknowledged += result.statuses["200"] ?? 0;
    return { ...result, cpuPerPurchase: usPerRequest(cpu, result.requests) };
  };
  const switchMemory = async (on: boolean) => {
    for (const name of WEBS) {
      stack.setEnv(name, { CATALOG_FROM_MEMORY: on ? undefined : "false" });
      await stack.restart(name);
    }
    // Off: the grants the old processes held run out on their own. On: wait for new ones.
    if (on) problems.push(...(await granted(webs)).map((m) => `after the restart with the memory on, ${m}`));
    else await Bun.sleep(GRANT_MS + 100);
    // The proxy's pooled connections to the old processes may fail once: let them.
    for (let i = 0; i < 20; i++) await fetch(`${store}/`).then((r) => r.arrayBuffer(), () => {});
  };

  // On and off in turn, so the machine's other work weighs on both alike.
  problems.push(...(await granted(webs)).map((m) => `before the first block, ${m}`));
  let on32: AtConnections | undefined;
  let off32: AtConnections | undefined;
  for (let c = 0; c < cycles; c++) {
    await block("on");
    on32 ??= await at32();
    await switchMemory(false);
    await block("off");
    off32 ??= await at32();
    await switchMemory(true);
  }
  const all = (x: AtConnections) => Object.values(x.cpuPerPurchase ?? {}).reduce((a, b) => a + b, 0);
  say(
    `  32 connections: on ${on32!.rps.toFixed(0)} orders/s p50 ${on32!.p50} p99 ${
      on32!.p99
    } ms, CPU µs/purchase ${all(on32!)}; off ${off32!.rps.toFixed(0)} orders/s p50 ${off32!.p50} p99 ${
      off32!.p99
    } ms, CPU µs/purchase ${all(off32!)}`,
  );
  const pooled = (memory: Memory): Sequential => {
    const bs = blocks.filter((b) => b.memory === memory);
    const cpu: Record<string, number> = {};
    for (const b of bs) for (const [n, sec] of Object.entries(b.cpu)) cpu[n] = (cpu[n] ?? 0) + sec;
    const count = bs.reduce((n, b) => n + b.ms.length + b.errors, 0);
    return {
      ...latencies(bs.flatMap((b) => b.ms), bs.reduce((n, b) => n + b.errors, 0)),
      waits: bs.reduce((n, b) => n + b.waits, 0),
      polls: bs.reduce((n, b) => n + b.polls, 0),
      cpuPerPurchase: usPerRequest(cpu, count),
    };
  };
  const sequential = {
    on: pooled("on"),
    off: pooled("off"),
    blocks: blocks.map((b) => ({ memory: b.memory, ...latencies(b.ms, b.errors) })),
  };

  const paused: PausedRound[] = [];
  for (let r = 0; r < rounds; r++) {
    const since = await grantsOf(webs);
    problems.push(...(await granted(webs, since)).map((m) => `before pause ${r + 1}, ${m}`));
    const ms: number[] = [];
    let errors = 0;
    stack.kill("web-1", "SIGSTOP");
    try {
      const t0 = performance.now();
      for (let i = 0; performance.now() - t0 < pauseMs; i++) {
        const t = await purchase(webs[1]!, i);
        if (t === null) errors++;
        else ms.push(round1(t));
      }
    } finally {
      stack.kill("web-1", "SIGCONT");
    }
    acknowledged += ms.length;
    paused.push({ ms, errors });
    say(
      `  web-1 paused, round ${r + 1}: ${ms.length} purchases through web-2, first ${ms[0]} ms, max ${
        Math.max(...ms)
      } ms, ${ms.filter((x) => x > GRANT_MS + PAUSED_SLACK_MS).length} over ${GRANT_MS + PAUSED_SLACK_MS} ms`,
    );
  }
  problems.push(...(await granted(webs)).map((m) => `after the pauses, ${m}`));
  await Bun.sleep(1000);
  const stored = (await admin.ordersSince(BENCH_ITEMS, after)).count;
  return {
    purchases,
    cycles,
    sequential,
    at32: { on: on32!, off: off32! },
    paused: { grantMs: GRANT_MS, slackMs: PAUSED_SLACK_MS, pauseMs, rounds: paused },
    acknowledged,
    stored,
    problems,
  };
}
