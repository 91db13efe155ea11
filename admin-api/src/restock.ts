// Timed restocking, the lab's part 3: with RESTOCK_EVERY_S and RESTOCK_TO set, every
// item at 0 is set to RESTOCK_TO at that interval. admin-api does it because it is
// the only writer of items, like an admin's restock: one UPDATE, then the restocked
// items' cache entries cleared by prefix (./clear.ts), so once a round has ended no
// read shows the old 0 (docs/design.md, Cache).
import { describeError, jsonLines, type Log } from "@bazaar/lib/log.ts";
import type { Item } from "@bazaar/lib/schemas.ts";
import type { RestockPlan } from "./config.ts";

export type RestockDeps = {
  /** One round's work: every item at 0 up to `to`, the cache cleared of them; the items it restocked (./clear.ts restockAndClear). */
  restock: (to: number) => Promise<Item[]>;
  plan: RestockPlan;
  log?: Log;
};

export type Restocker = {
  /** One round now, as the timer runs it: the items restocked (none when a round fails). */
  round(): Promise<Item[]>;
  /** Starts the timer: a round every plan.everyMs, the first one interval from now. */
  start(): void;
  /** Stops the timer; resolves once a round under way has finished. */
  stop(): Promise<void>;
};

export function restocker({ restock, plan, log = jsonLines }: RestockDeps): Restocker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<Item[]> | undefined;
  let stopped = false;

  const once = async (): Promise<Item[]> => {
    try {
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

  // The next round is scheduled when one ends, so a slow database never piles them up.
  const schedule = () => {
    timer = setTimeout(async () => {
      await round();
      if (!stopped) schedule();
    }, plan.everyMs);
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
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
