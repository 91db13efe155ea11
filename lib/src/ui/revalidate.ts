// Coalesced checks, batched: at most one check in flight, and every caller gets the
// answer of a check that STARTED AFTER it called. A caller that arrives while a check
// is in flight does not take that check's answer (it may have read the source before
// the caller's own earlier write was acknowledged); it joins the next check, which
// starts the moment the one in flight ends and answers everyone who arrived meanwhile,
// whatever they asked about (one check carries many keys). So under load one check
// answers many callers, an idle caller pays one check, and no caller ever sees a state
// older than its own start. Web uses it toward the api (docs/internals.md, The cache).

export type RevalidateStats = {
  /** Calls of check(). */
  requests: number;
  /** Checks actually run (requests ÷ checks is the batching factor). */
  checks: number;
};

export type Revalidator<Q, R> = {
  /** The answer for `key` of a check that started after this call; `query` says what to ask (the first caller's is kept). */
  check(key: string, query: Q): Promise<R>;
  stats(): RevalidateStats;
};

/** One check: every key asked, and what each asked. Answers every key. */
export type RunCheck<Q, R> = (batch: Map<string, Q>) => Promise<Map<string, R>>;

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

type Waiting<R> = { promise: Promise<R>; resolve: (value: R) => void; reject: (err: unknown) => void };
type Batch<Q, R> = {
  queries: Map<string, Q>;
  waiting: Map<string, Waiting<R>>;
  timer?: ReturnType<typeof setTimeout>;
};

const waiting = <R>(): Waiting<R> => {
  let resolve!: (value: R) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<R>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

/**
 * @example
 * const checks = revalidator(async (batch) => askTheApi(batch), { gatherMs: 2 });
 * const tux = await checks.check("item:tux", { name: "Tux" });
 */
export function revalidator<Q, R>(
  run: RunCheck<Q, R>,
  { maxWaitMs, late = () => new Error("no answer in time"), gatherMs = 0 }: RevalidateOptions = {},
): Revalidator<Q, R> {
  let requests = 0;
  let checks = 0;
  let inFlight = false;
  let next: Batch<Q, R> | undefined;

  const start = (batch: Batch<Q, R>) => {
    checks++;
    inFlight = true;
    const startedAt = performance.now();
    let running: Promise<Map<string, R>>;
    try {
      running = Promise.resolve(run(batch.queries));
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (answers) => {
        for (const [key, w] of batch.waiting) {
          if (answers.has(key)) w.resolve(answers.get(key)!);
          else w.reject(new Error(`the check did not answer ${key}`));
        }
      },
      (err) => {
        for (const w of batch.waiting.values()) w.reject(err);
      },
    ).finally(() => {
      clearTimeout(batch.timer);
      inFlight = false;
      if (!next) return;
      // Callers arriving until the next check starts still join it.
      const launch = () => {
        const batch = next!;
        next = undefined;
        start(batch);
      };
      const wait = startedAt + gatherMs - performance.now();
      if (wait > 0) {
        inFlight = true; // held for gatherMs: newcomers join the batch that is waiting
        setTimeout(launch, wait);
      } else launch();
    });
  };

  const join = (batch: Batch<Q, R>, key: string, query: Q) => {
    let w = batch.waiting.get(key);
    if (!w) {
      w = waiting<R>();
      batch.waiting.set(key, w);
      batch.queries.set(key, query);
    }
    return w.promise;
  };

  return {
    check(key, query) {
      requests++;
      if (!inFlight) {
        const batch: Batch<Q, R> = { queries: new Map(), waiting: new Map() };
        const answer = join(batch, key, query);
        start(batch);
        return answer;
      }
      if (!next) {
        const batch: Batch<Q, R> = { queries: new Map(), waiting: new Map() };
        if (maxWaitMs !== undefined) {
          batch.timer = setTimeout(() => {
            for (const w of batch.waiting.values()) w.reject(late());
          }, maxWaitMs);
        }
        next = batch;
      }
      return join(next, key, query);
    },
    stats: () => ({ requests, checks }),
  };
}
