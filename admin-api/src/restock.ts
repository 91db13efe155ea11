// Timed restocking, the lab's part 3: with RESTOCK_EVERY_S and RESTOCK_TO set, every
// item at 0 is set to RESTOCK_TO at that interval. admin-api does it because it is
// the only writer of items, like an admin's restock: one UPDATE, then the restocked
// items' cache entries cleared by prefix (./clear.ts), so once a round has ended no
// read shows the old 0 (docs/design.md, Cache). Rounds fall at fixed moments of the
// clock (the middle of each interval since the epoch), so several admin-apis round at
// once, and `claim` lets one of them make each round (./rounds.ts).
import { describeError, jsonLines, type Log } from "@bazaar/lib/log.ts";
import type { Item } from "@bazaar/lib/schemas.ts";
import type { RestockPlan } from "./config.ts";
import type { ClaimRound } from "./rounds.ts";

export type RestockDeps = {
  /** One round's work: every item at 0 up to `to`, the cache cleared of them; the items it restocked (./clear.ts restockAndClear). */
  restock: (to: number) => Promise<Item[]>;
  plan: RestockPlan;
  /** Whether this admin-api makes the round of this slot (time / everyMs); default: every one. */
  claim?: ClaimRound;
  log?: Log;
  now?: () => number;
};

export type Restocker = {
  /** One round now, as the timer runs it: the items restocked (none when a round fails). */
  round(): Promise<Item[]>;
  /**
   * Starts the timer: a round every plan.everyMs, in the middle of each interval of
   * the clock; the first one an interval from now at the earliest.
   */
  start(): void;
  /** Stops the timer; resolves once a round under way has finished. */
  stop(): Promise<void>;
};

export function restocker(
  { restock, plan, claim = async () => true, log = jsonLines, now = Date.now }: RestockDeps,
): Restocker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<Item[]> | undefined;
  let stopped = false;

  const once = async (): Promise<Item[]> => {
    try {
      // Another admin-api made (or is making) this interval's round.
      if (!(await claim(Math.floor(now() / plan.everyMs)))) return [];
      const items = await restock(plan.to);
      if (items.length === 0) return [];
      log({
        level: "info",
        time: new Date().toISOString(),
        service: "admin-api",
        msg: "restocked",
        to: plan.to,
        items: items.map((i) => i.name),
      });
      return items;
    } catch (err) {
      // The database away, say: this round is lost, the next one tries again.
      log({
        level: "error",
        time: new Date().toISOString(),
        service: "admin-api",
        msg: "restock failed; trying again next round",
        error: describeError(err),
      });
      return [];
    }
  };

  const round = () => {
    // Never two at once: a round started while one runs waits for it, then runs.
    const next = (running ?? Promise.resolve([])).then(once);
    running = next;
    return next;
  };

  // The next round is scheduled when one ends, so a slow database never piles them up:
  // at the next middle of an interval at least `atLeastMs` away.
  const schedule = (atLeastMs: number) => {
    const { everyMs } = plan;
    const earliest = now() + atLeastMs;
    const next = Math.ceil((earliest - everyMs / 2) / everyMs) * everyMs + everyMs / 2;
    timer = setTimeout(async () => {
      await round();
      if (!stopped) schedule(everyMs / 2);
    }, next - now());
  };

  return {
    round,
    start() {
      if (timer !== undefined || stopped) return;
      log({
        level: "info",
        time: new Date().toISOString(),
        service: "admin-api",
        msg: `restocking every ${plan.everyMs / 1000} s: each item at 0 back to ${plan.to}`,
      });
      schedule(plan.everyMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
