// Whether this web server may answer a catalogue read from its memory, without asking
// the api: only inside a grant it renews with the api, counted on its own monotonic
// clock from before it asked, and only for what no change has touched since it was
// checked. The api streams every change of the catalogue (server-sent events); each
// renewal says how far they have been applied, and a write is answered only once
// every web server holding a grant has applied it, or that grant has run out
// (lib/src/data/feed.ts; the argument: docs/internals.md, "Web's memory: leases").
// Without a grant — stream broken, api restarted, Redis away, partition — every read
// asks the api, as it always did (./catalog-reader.ts).
import * as v from "valibot";
import { CLOCK_RATE_BOUND, RENEW_EVERY_MS } from "@bazaar/lib/grants.ts";
import { oneAtATime } from "@bazaar/lib/one-at-a-time.ts";
import { FeedEvent, type GrantReply, type GrantRequest } from "@bazaar/lib/schemas.ts";
import { describeError, jsonLines, type Log } from "@bazaar/lib/log.ts";

/** A stream that has said nothing for this long (the api sends a heartbeat every second) is given up. */
const SILENT_MS = 3000;
/** Waits between attempts to open the stream: from this, doubling, up to a second. */
const RETRY_FROM_MS = 50;
/** At most this many items' invalidations are remembered; past it, everything is checked again once. */
const MAX_REMEMBERED = 10_000;

export type LeaseTransport = {
  /** Opens the change stream (GET /feed/changes). */
  open(signal: AbortSignal): Promise<Pick<Response, "ok" | "status" | "body">>;
  /** Renews the grant and says what is applied (POST /feed/grant). */
  renew(body: GrantRequest): Promise<GrantReply>;
};

export type CatalogLease = {
  /** Whether memory may answer now: a grant in hand, and the feed applied up to it. */
  valid(): boolean;
  /** The point a check is sent at: what it answers is current unless invalidated after it. */
  mark(): number;
  /** Whether an item (by name key) checked at `at` has not been touched since. */
  itemCurrent(nameKey: string, at: number): boolean;
  /**
   * Whether a page showing these items (name keys) checked at `at` has not been touched
   * since: none of them changed, and no item was inserted or deleted.
   */
  pageCurrent(members: readonly string[], at: number): boolean;
  /** Closes the stream and stops renewing. */
  stop(): void;
  stats(): Record<string, unknown>;
};

type Grant = { feed: string; seq: number; until: number };

/**
 * @example
 * const lease = catalogLease({ open: (signal) => fetch(url, { signal }), renew: (b) => post(b) });
 * if (lease.valid() && lease.itemCurrent("tux", entry.checkedAt)) return entry.value;
 */
export function catalogLease(
  transport: LeaseTransport,
  { log = jsonLines, now = () => performance.now() }: {
    log?: Log;
    /** The monotonic clock grants are counted on (tests give their own). */
    now?: () => number;
  } = {},
): CatalogLease {
  const web = crypto.randomUUID();
  // Where the feed stands here: its identity (none while the stream is down) and the last change applied.
  let feed: string | undefined;
  let applied = 0;
  // Invalidations, counted: a value checked at mark m is current while nothing touching it came after m.
  let counter = 0;
  let resetAt = 0;
  let listAt = 0;
  const itemsAt = new Map<string, number>();
  let grants: Grant[] = [];
  let stopped = false;
  let abort: AbortController | undefined;
  const stats = { streams: 0, changes: 0, resets: 0, renewals: 0, granted: 0, refused: 0 };

  const say = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    log({ level, time: new Date().toISOString(), service: "web", msg, ...extra });

  const forgetAll = () => {
    resetAt = ++counter;
    itemsAt.clear();
  };

  /**
   * The stream is down: nothing held is trusted, no grant used — and the grant given
   * back, so no write waits for it to run out (if that fails, it runs out anyway).
   */
  const lose = () => {
    const had = feed;
    feed = undefined;
    grants = [];
    forgetAll();
    if (had) transport.renew({ web, feed: had, applied, release: true }).catch(() => {});
  };

  const apply = (event: FeedEvent) => {
    if (event.type !== "changes") {
      if (event.type === "reset") stats.resets++;
      forgetAll();
      feed = event.feed;
      applied = event.seq;
      grants = [];
      return;
    }
    if (event.feed !== feed) throw new Error("a change of another feed");
    for (const change of event.changes) {
      if (change.seq <= applied) continue;
      if (change.seq !== applied + 1) {
        throw new Error(`change ${change.seq} after ${applied}: one is missing`);
      }
      stats.changes++;
      if (change.stems === "*") forgetAll();
      else {
        const at = ++counter;
        for (const stem of change.stems) itemsAt.set(decodeURIComponent(stem), at);
        if (change.list) listAt = at;
        if (itemsAt.size > MAX_REMEMBERED) forgetAll();
      }
      applied = change.seq;
    }
  };

  /** Renews now, or right after the renewal in flight: each says how far the feed is applied then. */
  const renew = oneAtATime(async () => {
    if (!feed || stopped) return;
    const asked = { web, feed, applied };
    const sentAt = now();
    stats.renewals++;
    try {
      const reply = await transport.renew(asked);
      if (reply.granted && reply.feed === feed) {
        stats.granted++;
        const until = sentAt + reply.ms * (1 - CLOCK_RATE_BOUND);
        grants = [...grants.filter((g) => g.until > now() && g.feed === feed), {
          feed: reply.feed,
          seq: reply.seq,
          until,
        }].slice(-4);
      } else stats.refused++;
    } catch {
      stats.refused++;
    }
  });

  /** Reads server-sent events from the stream until it ends, goes silent or breaks. */
  const follow = async (controller: AbortController) => {
    const response = await transport.open(controller.signal);
    if (!response.ok || !response.body) throw new Error(`the change stream answered ${response.status}`);
    stats.streams++;
    let silent = setTimeout(() => controller.abort(), SILENT_MS);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(silent);
        silent = setTimeout(() => controller.abort(), SILENT_MS);
        buffer += value;
        let end: number;
        let changed = false;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) =>
            l.slice(5).trimStart()
          )
            .join("\n");
          if (!data) continue;
          apply(v.parse(FeedEvent, JSON.parse(data)));
          changed = true;
        }
        // Say at once what is applied: writers wait for it.
        if (changed) void renew();
      }
    } finally {
      clearTimeout(silent);
      reader.releaseLock();
    }
  };

  const run = async () => {
    let wait = RETRY_FROM_MS;
    while (!stopped) {
      abort = new AbortController();
      const before = stats.streams;
      try {
        await follow(abort);
      } catch (err) {
        // Said once per loss, not once per attempt to reconnect.
        if (!stopped && stats.streams > before) {
          say("warn", "catalogue stream lost; reading through the api until it is back", {
            error: describeError(err),
          });
        }
      }
      if (stats.streams > before) wait = RETRY_FROM_MS;
      lose();
      if (stopped) break;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 1000);
    }
  };

  void run();
  const timer = setInterval(() => void renew(), RENEW_EVERY_MS);

  return {
    valid() {
      if (!feed) return false;
      const t = now();
      for (const g of grants) if (g.feed === feed && g.until > t && applied >= g.seq) return true;
      return false;
    },
    mark: () => counter,
    itemCurrent: (nameKey, at) => at >= resetAt && at >= (itemsAt.get(nameKey) ?? 0),
    pageCurrent: (members, at) =>
      at >= resetAt && at >= listAt && members.every((key) => at >= (itemsAt.get(key) ?? 0)),
    stop() {
      stopped = true;
      clearInterval(timer);
      abort?.abort();
      lose();
    },
    stats(): Record<string, unknown> {
      return { ...stats, valid: this.valid(), applied };
    },
  };
}
