// Seeded randomness, so that a run can be replayed: the same seed gives every
// session the same sequence of choices, whatever the server answers.

/** mulberry32: a tiny, fast 32-bit PRNG; plenty for picking products and coin flips. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of one session, derived from the run's seed and the session's index.
 * Each session gets its own stream (rather than sharing one) because the order in
 * which concurrent sessions draw depends on response timing, not on the seed.
 */
export function sessionSeed(seed: number, index: number): number {
  // splitmix32-style mixing so that neighbouring indexes give unrelated streams.
  let z = (seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed for runs that did not ask for one; reported so the run can be repeated. */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}
