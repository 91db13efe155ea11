// What a test run stops after its last file: tests/setup.ts (the preload) calls
// runEnd() in its global afterAll, so a service a test file starts on demand (the
// route harness's MariaDB) outlives that file and serves the next ones.

const steps: (() => Promise<void>)[] = [];

/**
 * Do `step` once the run's last test file is done.
 * @example
 * atRunEnd(() => db.stop());
 */
export const atRunEnd = (step: () => Promise<void>) => void steps.push(step);

/** Runs (and forgets) every step given to atRunEnd, in reverse order. */
export async function runEnd() {
  for (const step of steps.splice(0).reverse()) await step();
}
