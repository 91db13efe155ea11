// Coalesced checks: for one key, at most one check in flight, and every caller gets
// the answer of a check that STARTED AFTER it called. A caller that arrives while a
// check is in flight does not take that check's answer (it may have read the source
// before the caller's own earlier write was acknowledged); it waits for the next one,
// which starts the moment the one in flight ends and answers everyone who arrived
// meanwhile. So under load one check answers many callers, an idle caller pays one
// check, and no caller ever sees a state older than its own start: no lease, no TTL.
// Used by web toward the api and by the api toward the database (docs/internals.md).

export type RevalidateStats = {
  /** Calls of check(). */
  requests: number;
  /** Checks actually run (requests ÷ checks is the batching factor). */
  checks: number;
};

export type Revalidator = {
  /** The answer of a run of `run` for `key` that started after this call. */
  check<T>(key: string, run: () => Promise<T>): Promise<T>;
  stats(): RevalidateStats;
};

type Next = {
  run: () => Promise<unknown>;
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
};

export type RevalidateOptions = {
  /**
   * How long a caller waits for the next check at most, from the moment the first
   * of its batch arrived (then `late()` is thrown to the batch; the check goes on).
   * Without it a caller could wait for the check in flight and then a whole second
   * one. One timer per batch, not per caller.
   */
  maxWaitMs?: number;
  late?: () => unknown;
  /**
   * Under load, the next check starts no sooner than this long after the one before
   * it started (it still starts after everyone it answers arrived). A caller with no
   * check in flight is never held: one connection pays what it did; 32 pay less,
   * because more of them share each check.
   */
  gatherMs?: number;
};

type Slot = { next?: Next };

export function revalidator(
  { maxWaitMs, late = () => new Error("no answer in time"), gatherMs = 0 }: RevalidateOptions = {},
): Revalidator {
  const slots = new Map<string, Slot>();
  let requests = 0;
  let checks = 0;

  const start = (key: string, slot: Slot, run: () => Promise<unknown>): Promise<unknown> => {
    checks++;
    const startedAt = performance.now();
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(run());
    } catch (err) {
      running = Promise.reject(err);
    }
    // Callers arriving until the next check starts join its batch (slot.next).
    const launch = () => {
      const next = slot.next!;
      slot.next = undefined;
      start(key, slot, next.run).then(next.resolve, next.reject);
    };
    const done = () => {
      if (!slot.next) {
        slots.delete(key);
        return;
      }
      const wait = startedAt + gatherMs - performance.now();
      if (wait > 0) setTimeout(launch, wait);
      else launch();
    };
    running.then(done, done);
    return running;
  };

  return {
    check<T>(key: string, run: () => Promise<T>): Promise<T> {
      requests++;
      const slot = slots.get(key);
      if (!slot) {
        const fresh: Slot = {};
        slots.set(key, fresh);
        return start(key, fresh, run) as Promise<T>;
      }
      if (!slot.next) {
        let resolve!: (value: unknown) => void;
        let reject!: (err: unknown) => void;
        const promise = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)));
        if (maxWaitMs !== undefined) {
          const timer = setTimeout(() => reject(late()), maxWaitMs);
          const clear = () => clearTimeout(timer);
          promise.then(clear, clear);
        }
        slot.next = { run, promise, resolve, reject };
      }
      return slot.next.promise as Promise<T>;
    },
    stats: () => ({ requests, checks }),
  };
}
