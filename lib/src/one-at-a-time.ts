// A task that never runs twice at once, and never misses a call: called while it runs,
// it runs once more right after, however many calls came meanwhile. The api's reader
// of the change feed and web's grant renewals are such tasks: each run looks at the
// state then, so one more run answers every call made during the last.

/**
 * `task` must not throw (a rejection would end the runs and reach every caller).
 * @example
 * const renew = oneAtATime(async () => { await post(stateNow()); });
 * void renew(); void renew(); // the second runs after the first, once
 */
export function oneAtATime(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    // Cleared in .finally, after the assignment: a run may end without awaiting.
    running = (async () => {
      do {
        again = false;
        await task();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };
}
