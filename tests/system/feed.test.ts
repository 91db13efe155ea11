// The change feed and the grants in the stack's real Redis (lib/src/data/feed.ts's
// scripts): a writer waits for every web server holding a grant to acknowledge its
// change, or for that grant to run out; a grant given back, or never given, holds no
// write up; a web server behind by more than LAG_MS is not renewed; the feed says
// what changed, in order, with the list's changes marked. The stack's own web servers
// hold grants too (and acknowledge at once): these tests add web ids of their own.
import { afterAll, describe, expect, test } from "bun:test";
import { catalogCache, stemOf } from "../../lib/src/data/catalog-cache.ts";
import { ACK_BOUND_MS } from "../../lib/src/data/feed.ts";
import { GRANT_MS, LAG_MS } from "../../lib/src/grants.ts";
import { testCache } from "../../testutil/src/test-stack.ts";
import "./stack.ts";

const cache = testCache();
const redis = catalogCache(cache);
const feed = redis.feed;
afterAll(() => cache.close());

const web = (what: string) => `test-${what}-${crypto.randomUUID().slice(0, 8)}`;
/** Where the feed is now: its identity and last change. */
const now = async () => {
  const c = await feed.changes(Number.MAX_SAFE_INTEGER);
  return { feed: c.feed, seq: c.seq };
};
/** A change of an item no one holds (nothing of the store's is touched). */
const change = () => redis.clear([stemOf(`feed test ${crypto.randomUUID()}`)]);
/** Whether `p` has settled within `ms`. */
const settledWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), Bun.sleep(ms).then(() => false)]);

describe("a writer's wait", () => {
  test("waits for a web server holding a grant until it acknowledges the change", async () => {
    const a = web("acks");
    const at = await now();
    expect((await feed.renew(a, at.feed, at.seq)).granted).toBe(true);
    const n = await change();
    const waiting = feed.acked(n);
    expect(await settledWithin(waiting, 100)).toBe(false);
    await feed.renew(a, n.feed, n.seq);
    expect(await settledWithin(waiting, 200)).toBe(true);
  });

  test("one that never acknowledges holds it up until its grant runs out, no longer", async () => {
    const b = web("silent");
    const at = await now();
    expect((await feed.renew(b, at.feed, at.seq)).granted).toBe(true);
    const t0 = performance.now();
    const n = await change();
    await feed.acked(n);
    const waited = performance.now() - t0;
    // Not before its grant ran out (it was given just before the change) …
    expect(waited).toBeGreaterThan(GRANT_MS * 0.8);
    // … and it did end (a bound far above one grant: the machine may be busy).
    expect(waited).toBeLessThan(GRANT_MS * 4);
  });

  test("one that keeps renewing without applying the change: no longer than LAG_MS + GRANT_MS", async () => {
    const e = web("stuck");
    const at = await now();
    expect((await feed.renew(e, at.feed, at.seq)).granted).toBe(true);
    let renewing = true;
    const renewals = (async () => {
      while (renewing) {
        await feed.renew(e, at.feed, at.seq); // never past the change
        await Bun.sleep(50);
      }
    })();
    const t0 = performance.now();
    await feed.acked(await change());
    const waited = performance.now() - t0;
    renewing = false;
    await renewals;
    await feed.renew(e, at.feed, at.seq, { release: true });
    // Renewed while the change was younger than LAG_MS, then no more: its last grant ran out.
    expect(waited).toBeGreaterThan(GRANT_MS * 0.8);
    expect(waited).toBeLessThan(ACK_BOUND_MS * 3);
  });

  test("a grant given back holds nothing up", async () => {
    const c = web("released");
    const at = await now();
    expect((await feed.renew(c, at.feed, at.seq)).granted).toBe(true);
    await feed.renew(c, at.feed, at.seq, { release: true });
    expect(await settledWithin(feed.acked(await change()), GRANT_MS / 2)).toBe(true);
  });
});

describe("renewals", () => {
  test("of another feed (Redis lost the one the web server knew): refused, and told the current one", async () => {
    const at = await now();
    const r = await feed.renew(web("stale feed"), "not-the-feed", 0);
    expect(r).toEqual({ feed: at.feed, seq: expect.any(Number), granted: false });
  });

  test("of a web server behind by a change older than LAG_MS: refused; caught up, granted", async () => {
    const d = web("behind");
    const at = await now();
    expect((await feed.renew(d, at.feed, at.seq)).granted).toBe(true);
    const n = await change();
    // Just announced: still within LAG_MS, so renewed.
    expect((await feed.renew(d, at.feed, at.seq)).granted).toBe(true);
    await Bun.sleep(LAG_MS + 50);
    expect((await feed.renew(d, at.feed, at.seq)).granted).toBe(false);
    expect((await feed.renew(d, n.feed, n.seq)).granted).toBe(true);
    await feed.renew(d, n.feed, n.seq, { release: true });
  });

  test("are not granted while the cache is off for the api that asks", async () => {
    const at = await now();
    expect((await feed.renew(web("off"), at.feed, at.seq, { grantable: false })).granted).toBe(false);
  });
});

describe("the feed", () => {
  test("says each change in order: the items, with the list marked after an insert or a delete", async () => {
    const from = (await now()).seq;
    await redis.clear([stemOf("feed test a")]);
    // A floor of 0 raises nothing (the list's floor only goes up) but marks the change as the list's.
    await redis.clear([stemOf("feed test b")], 0);
    const { changes } = await feed.changes(from);
    expect(changes).not.toBe("gone");
    const ours = (changes as { seq: number; stems: string[] | "*"; list?: true }[]).filter((c) =>
      Array.isArray(c.stems) && c.stems.some((s) => s.startsWith(stemOf("feed test ")))
    );
    expect(ours.map((c) => ({ stems: c.stems, list: c.list }))).toEqual([
      { stems: [stemOf("feed test a")], list: undefined },
      { stems: [stemOf("feed test b")], list: true },
    ]);
    expect(ours[1]!.seq).toBeGreaterThan(ours[0]!.seq);
  });
});
