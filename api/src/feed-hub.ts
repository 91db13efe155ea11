// The api's side of the web servers' change streams: one reader of Redis's change feed
// per api instance, however many streams it serves. While any stream is open it asks
// Redis for changes every POLL_MS (every writer, in any process, announces there:
// lib/src/data/feed.ts), and at once when a write of its own has announced one; each
// stream gets every change in order, from the point it joined ("hello").
import type { CatalogFeed, Change } from "@bazaar/lib/data/feed.ts";
import { oneAtATime } from "@bazaar/lib/one-at-a-time.ts";
import type { FeedEvent } from "@bazaar/lib/schemas.ts";

/**
 * How often the feed is read while streams are open: every BUSY_POLL_MS while changes
 * keep coming (in the last BUSY_FOR_MS), else every IDLE_POLL_MS — what a change made
 * in another process (admin-api, another api) may wait before it is streamed. A change
 * made here is streamed at once. Reading every 2 ms when idle cost the api and the
 * Redis bridge about 17 % of a core between them.
 */
const BUSY_POLL_MS = 3;
const IDLE_POLL_MS = 25;
const BUSY_FOR_MS = 200;
/** How often an idle stream hears from the api, so a web server can tell a live stream from a stalled one. */
export const HEARTBEAT_MS = 1000;

export type FeedSink = (event: FeedEvent | "heartbeat") => void;

export type FeedHub = {
  /** Whether the feed can be read now (a stream can start). */
  ready(): Promise<boolean>;
  /**
   * A new stream: it is sent "hello" and then every change; the returned function
   * leaves. `end` is called when the hub ends it (endAll).
   */
  join(sink: FeedSink, end: () => void): Promise<() => void>;
  /** Ends every stream (draining: web servers reconnect to another instance). */
  endAll(): void;
  stats(): { streams: number; reads: number; changes: number; resets: number };
};

/**
 * @example
 * const hub = feedHub(redis.feed);
 * const leave = await hub.join((event) => stream.writeSSE({ data: JSON.stringify(event) }), () => stream.close());
 */
export function feedHub(feed: CatalogFeed): FeedHub {
  const sinks = new Map<FeedSink, () => void>();
  let cursor: { feed: string; seq: number } | undefined;
  let lastChange = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stats = { reads: 0, changes: 0, resets: 0 };

  const send = (event: FeedEvent | "heartbeat") => {
    for (const sink of sinks.keys()) sink(event);
  };

  const readOnce = async () => {
    stats.reads++;
    const now = await feed.changes(cursor?.seq ?? Number.MAX_SAFE_INTEGER);
    if (!cursor || now.feed !== cursor.feed || now.changes === "gone") {
      const first = !cursor;
      cursor = { feed: now.feed, seq: now.seq };
      if (!first) {
        stats.resets++;
        send({ type: "reset", ...cursor });
      }
      return;
    }
    const changes = now.changes as Change[];
    if (!changes.length) return;
    lastChange = performance.now();
    cursor = { feed: now.feed, seq: changes.at(-1)!.seq };
    stats.changes += changes.length;
    send({ type: "changes", feed: now.feed, changes });
    // More than one read's worth: read again at once.
    if (cursor.seq < now.seq) void read();
  };

  /** Reads the feed now, or right after the read in flight. */
  const read = oneAtATime(async () => {
    try {
      await readOnce();
    } catch {
      // Redis away: streams hear nothing; the web servers' grants cannot be renewed
      // either, so they fall back to asking (lib/src/data/feed.ts).
    }
  });

  const schedule = () => {
    timer = setTimeout(async () => {
      await read();
      if (sinks.size) schedule();
      else timer = undefined;
    }, performance.now() - lastChange < BUSY_FOR_MS ? BUSY_POLL_MS : IDLE_POLL_MS);
  };

  feed.watch(() => void read());

  return {
    async ready() {
      await read();
      return cursor !== undefined;
    },
    async join(sink, end) {
      // The stream starts where the feed is now: read it first.
      await read();
      if (!cursor) throw new Error("the change feed cannot be read (Redis away)");
      sink({ type: "hello", ...cursor });
      const leave = () => {
        sinks.delete(sink);
        if (!sinks.size) clearInterval(heartbeat), (heartbeat = undefined);
      };
      sinks.set(sink, () => (leave(), end()));
      if (timer === undefined) schedule();
      heartbeat ??= setInterval(() => send("heartbeat"), HEARTBEAT_MS);
      return leave;
    },
    endAll() {
      for (const end of [...sinks.values()]) end();
    },
    stats: () => ({ streams: sinks.size, ...stats }),
  };
}
