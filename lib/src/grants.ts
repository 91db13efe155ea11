// The terms of the web servers' grants to serve the catalogue from memory, which both
// sides keep: the api's writers and Redis (lib/src/data/feed.ts) and web
// (web/src/catalog-lease.ts). docs/internals.md, "Web's memory: leases".

/** How long a grant lasts (Redis's clock); a web server counts it on its own, from before it asked. */
export const GRANT_MS = 500;
/** How often a web server renews (and acknowledges) with nothing new to acknowledge. */
export const RENEW_EVERY_MS = 125;
/**
 * A grant is not renewed to a web server that has not applied a change announced this
 * long ago (its stream is cut or stalled): so a write waits at most LAG_MS + GRANT_MS.
 */
export const LAG_MS = 150;
/** How fast any clock here may run against another, at most (a web server's grant is shortened by it). */
export const CLOCK_RATE_BOUND = 0.01;

/**
 * A wait on this process's clock that outlasts `ms` on Redis's, whatever the two clocks'
 * rates within CLOCK_RATE_BOUND (and a little for the round trip that started it).
 * @example
 * const waitMs = pastOnEveryClock(LAG_MS + GRANT_MS);
 */
export const pastOnEveryClock = (ms: number) => Math.ceil(ms * (1 + 2 * CLOCK_RATE_BOUND)) + 10;
