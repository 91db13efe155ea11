// A price correction with admin-api cut off from Redis: its own clear fails, so it
// waits out the relay's bound (lib/src/data/catalog-cache.ts, RELAY_BOUND_MS) and answers
// "relayed". Meanwhile readers poll the item through the store (HAProxy → web → api).
// For each write: how long until a read begun after it was sent showed the new price
// (an upper bound: it includes the write's own commit and the read's round trip), and
// how many reads begun after its answer still showed an older price (must be none).
import type { Stack } from "../../local/src/index.ts";

/** A port nothing listens on: every call to Redis is refused at once. */
const CLOSED = "http://127.0.0.1:9";

export type StaleWrite = {
  price: number;
  /** admin-api's answer: "cleared" (it reached Redis) or "relayed" (it waited out the bound). */
  cache: string;
  /** From sending the PATCH to its answer, ms. */
  answerMs: number;
  /** From sending it to the end of the first read begun after the send that showed it (or a later one), ms. */
  seenMs: number | null;
  /** Reads begun after the answer that showed an older price. */
  staleAfterAnswer: number;
};

export type Staleness = {
  item: string;
  readers: number;
  gapMs: number;
  reads: number;
  /** Reads answered with an error, or with a price no write set. */
  readErrors: number;
  writes: StaleWrite[];
  /** admin-api's answer to a write once Redis was given back: "cleared" when it reaches it again. */
  restored: string;
};

type Read = { start: number; end: number; price: number | null };
type Sent = { price: number; cache: string; sent: number; answered: number };

const cents = (price: number) => Math.round(price * 100);
/** The item's price before the writes; write i sets 10 + i (every price a different one). */
const BEFORE = 5;

export async function measureStaleness(
  stack: Stack,
  { item, writes = 20, gapMs = 200, readers = 8 }: {
    item: string;
    writes?: number;
    gapMs?: number;
    readers?: number;
  },
): Promise<Staleness> {
  const correct = async (price: number) => {
    const res = await fetch(`${stack.urls.adminApi}/items/${encodeURIComponent(item)}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${stack.env.ADMIN_API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ price }),
    });
    if (!res.ok) throw new Error(`admin-api PATCH ${item}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: { cache: string } }).data.cache;
  };
  await correct(BEFORE);

  stack.setEnv("admin-api", { UPSTASH_REDIS_REST_URL: CLOSED });
  await stack.restart("admin-api");
  const reads: Read[] = [];
  const sent: Sent[] = [];
  try {
    let reading = true;
    const url = `${stack.urls.store}/products/${encodeURIComponent(item)}`;
    const reader = async () => {
      while (reading) {
        const start = performance.now();
        const price = await fetch(url).then(
          async (r) => (r.ok ? ((await r.json()) as { data: { price: number } }).data.price : null),
          () => null,
        );
        reads.push({ start, end: performance.now(), price });
      }
    };
    const running = Array.from({ length: readers }, reader);
    await Bun.sleep(300);
    for (let i = 0; i < writes; i++) {
      const price = 10 + i;
      const at = performance.now();
      const cache = await correct(price);
      sent.push({ price, cache, sent: at, answered: performance.now() });
      await Bun.sleep(gapMs);
    }
    await Bun.sleep(300);
    reading = false;
    await Promise.all(running);
  } finally {
    // Given back its own address (undefined would drop the variable altogether: local/src/runner.ts).
    stack.setEnv("admin-api", { UPSTASH_REDIS_REST_URL: stack.env.UPSTASH_REDIS_REST_URL });
    await stack.restart("admin-api");
  }
  const restored = await correct(BEFORE);
  return { item, readers, gapMs, ...judged(reads, sent), restored };
}

/** Each write's staleness seen and the reads after its answer that were older, from the timings alone. */
function judged(reads: Read[], sent: Sent[]) {
  // Which write a price is: -1 for the one before them all.
  const writeOf = new Map<number, number>(sent.map((s, i) => [cents(s.price), i]));
  writeOf.set(cents(BEFORE), -1);
  const index = (r: Read) => (r.price === null ? undefined : writeOf.get(cents(r.price)));
  const readErrors = reads.filter((r) => index(r) === undefined).length;
  const stale = sent.map(() => 0);
  for (const r of reads) {
    const shown = index(r);
    if (shown === undefined) continue;
    // The newest write answered before this read began: it must show that one or a later one.
    const last = sent.findLastIndex((s) => s.answered < r.start);
    if (last >= 0 && shown < last) stale[last]!++;
  }
  const writes: StaleWrite[] = sent.map((s, i) => {
    const seen = reads
      .filter((r) => r.start >= s.sent && (index(r) ?? -2) >= i)
      .reduce<number | null>((t, r) => (t === null || r.end < t ? r.end : t), null);
    return {
      price: s.price,
      cache: s.cache,
      answerMs: Math.round((s.answered - s.sent) * 10) / 10,
      seenMs: seen === null ? null : Math.round((seen - s.sent) * 10) / 10,
      staleAfterAnswer: stale[i]!,
    };
  });
  return { reads: reads.length, readErrors, writes };
}
