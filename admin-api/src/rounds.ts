// Which admin-api makes a timed restocking round (./restock.ts): every one runs its
// rounds at the same moments of the clock, and the one whose insert of the round's slot
// (db/init.sql restock_rounds) succeeds makes it. One admin-api or several, a round
// is made once per interval (docs/internals.md, "APIs replicated").
import type { Db } from "@bazaar/lib/data/db.ts";
import { describeError, jsonLines, type Log } from "@bazaar/lib/log.ts";

/** How long a claimed slot is kept: long past any instance's round of it. */
const KEPT_MS = 24 * 60 * 60 * 1000;

/** Whether this admin-api makes round `slot`: false when another already claimed it. */
export type ClaimRound = (slot: number) => Promise<boolean>;

/**
 * Claims a round's slot in the database (older slots deleted on the way). A database
 * without the table (a schema older than the code: compose's volume keeps its first
 * schema) claims every slot, as one admin-api would, and says so once.
 *
 * @example
 * restocker({ restock, plan, claim: claimRound(db, plan.everyMs) });
 */
export function claimRound(db: Db, everyMs: number, log: Log = jsonLines): ClaimRound {
  let warned = false;
  return async (slot) => {
    try {
      await db.execute("DELETE FROM restock_rounds WHERE slot < ? LIMIT 100", [
        Math.max(0, slot - Math.ceil(KEPT_MS / everyMs)),
      ]);
      await db.execute("INSERT INTO restock_rounds (slot) VALUES (?)", [slot]);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ER_DUP_ENTRY") return false;
      if (code !== "ER_NO_SUCH_TABLE") throw err;
      if (!warned) {
        warned = true;
        log({
          level: "warn",
          time: new Date().toISOString(),
          service: "admin-api",
          msg: "no restock_rounds table (db/init.sql): each admin-api restocks on its own",
          error: describeError(err),
        });
      }
      return true;
    }
  };
}
