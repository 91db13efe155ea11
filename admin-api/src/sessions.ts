// The admin sessions, kept by admin-api so that both admin servers see the same ones
// and a sign-out ends a session everywhere at once.
//
// admin-api is one process and the only one that creates or ends sessions, so its
// memory is the truth while it runs; Redis (through the cache's plain keys) holds a
// copy so that sessions outlive a restart of admin-api. Hence:
// - Redis down: sessions already known keep working, sign-in and sign-out work (in
//   memory), and what Redis missed is written once it is back (retried every
//   `retryMs`). Only a session this process has not seen since it started, and that
//   Redis cannot be asked about, is unknown: that admin signs in again.
// - An ended session is remembered as ended until it would have expired, so a copy
//   still in Redis (a deletion not yet written) is never taken back.
// - Left open: a sign-out while Redis is unreachable, then admin-api restarted before
//   Redis is back, leaves the copy in Redis to be found again (docs/internals.md).
// - Several admin-apis (ADMIN_API_SERVERS > 1): a sign-out on one must end the session
//   on the others, whose memory may hold it. So an end leaves a mark in Redis
//   ("ended", until the session would have expired) instead of deleting the copy, and
//   a check asks Redis even about a session held here while Redis is up: the mark ends
//   it here too. Redis answering nothing (flushed, or the copy evicted) still leaves a
//   session held here working, as before (docs/internals.md, "APIs replicated").
// Ids are 32 random bytes; Redis holds only their SHA-256, so its keys are no cookies.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import * as v from "valibot";
import type { KeyValue } from "@bazaar/lib/data/cache.ts";
import { describeError } from "@bazaar/lib/log.ts";

export const SESSION_TTL_SECONDS = 8 * 60 * 60;
const PREFIX = "admin-session:";
/** What Redis holds for an ended session until it would have expired. */
const ENDED = "ended";

const Stored = v.object({
  user: v.string(),
  expires: v.number(),
  csrf: v.string(),
  fingerprint: v.string(),
});
type Stored = v.InferOutput<typeof Stored>;
export type Session = Stored & { id: string };

export type StoreOptions = {
  kv: KeyValue;
  ttlSeconds?: number;
  /** Most sessions held in memory; beyond, the oldest are left to Redis alone. */
  maxSessions?: number;
  retryMs?: number;
  now?: () => number;
  log?: (msg: string, err?: unknown) => void;
};

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const random = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const hashOf = (id: string) => createHash("sha256").update(id).digest("hex");

export function sessionStore(
  {
    kv,
    ttlSeconds = SESSION_TTL_SECONDS,
    maxSessions = 10_000,
    retryMs = 1000,
    now = () => Date.now(),
    log = defaultLog,
  }: StoreOptions,
) {
  const live = new Map<string, Stored>(); // by hash, oldest first
  const ended = new Map<string, number>(); // hash → when it would have expired
  const unwritten = new Map<string, Stored | null>(); // what Redis has not taken yet (null: a deletion)
  let retry: ReturnType<typeof setTimeout> | undefined;
  let healthy = true;

  const failed = (what: string, err: unknown) => {
    if (healthy) {
      log(`session store: Redis ${what} failed; sessions are kept in memory until it is back`, err);
    }
    healthy = false;
  };

  const back = () => {
    if (healthy || unwritten.size > 0) return;
    healthy = true;
    log("session store: Redis is back; what it missed is written");
  };

  const write = async (hash: string, value: Stored | null) => {
    const until = value === null ? ended.get(hash) : value.expires;
    if (until === undefined || until <= now()) await kv.del(PREFIX + hash);
    else await kv.set(PREFIX + hash, value === null ? ENDED : JSON.stringify(value), (until - now()) / 1000);
  };

  // One flush at a time, so Redis takes a session's writes in the order they were made.
  let flushing: Promise<void> = Promise.resolve();
  const flushOnce = async () => {
    for (const [hash, value] of [...unwritten]) {
      if (unwritten.get(hash) !== value) continue; // superseded meanwhile: written by its own turn
      if (value && value.expires <= now()) {
        unwritten.delete(hash);
        continue;
      }
      try {
        await write(hash, value);
        if (unwritten.get(hash) === value) unwritten.delete(hash);
      } catch (err) {
        failed("write", err);
        schedule();
        return;
      }
    }
    back();
  };
  const flush = () => (flushing = flushing.then(flushOnce));
  const schedule = () => {
    if (retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void flush();
    }, retryMs);
    (retry as { unref?: () => void }).unref?.();
  };
  /** Memory has it already; Redis gets it now, or (while it is known down) at the next retry. */
  const save = async (hash: string, value: Stored | null) => {
    unwritten.set(hash, value);
    if (retry === undefined) await flush();
  };

  const prune = () => {
    const t = now();
    for (const [hash, until] of ended) if (until <= t) ended.delete(hash);
    if (live.size < maxSessions) return;
    for (const [hash, s] of live) if (s.expires <= t) live.delete(hash);
    for (const hash of live.keys()) {
      if (live.size < maxSessions) break;
      live.delete(hash);
    }
  };

  const usable = (hash: string, s: Stored | undefined) =>
    s !== undefined && s.expires > now() && !ended.has(hash);

  return {
    /** A new session for a user who has just signed in. */
    async create(user: string, fingerprint: string): Promise<Session> {
      prune();
      const id = random(32);
      const hash = hashOf(id);
      const session: Stored = { user, expires: now() + ttlSeconds * 1000, csrf: random(24), fingerprint };
      live.set(hash, session);
      await save(hash, session);
      return { id, ...session };
    },

    /** The session with this id, or null: unknown, expired or ended (here, or by another admin-api). */
    async check(id: string): Promise<Session | null> {
      const hash = hashOf(id);
      if (ended.has(hash)) return null;
      const known = live.get(hash);
      const fromMemory = () => (known && usable(hash, known) ? { id, ...known } : null);
      // Redis known down, or holding an older state than ours: memory answers.
      if (known && (!healthy || unwritten.has(hash))) return fromMemory();
      let found: Stored | undefined;
      try {
        const raw = await kv.get(PREFIX + hash);
        back();
        if (raw === ENDED) {
          // Ended by another admin-api: here too.
          live.delete(hash);
          ended.set(hash, known?.expires ?? now() + ttlSeconds * 1000);
          return null;
        }
        // No copy (flushed, evicted): a session held here still is one.
        if (raw === null || raw === undefined) return fromMemory();
        const parsed = v.safeParse(Stored, typeof raw === "string" ? JSON.parse(raw) : raw);
        found = parsed.success ? parsed.output : undefined;
      } catch (err) {
        failed("read", err);
        // Unknown here and Redis cannot say: sign in again.
        return fromMemory();
      }
      // Ended (or re-read) while Redis answered: memory wins.
      if (!usable(hash, found)) return null;
      if (!live.has(hash)) live.set(hash, found!);
      return { id, ...live.get(hash)! };
    },

    /** Ends the session everywhere; true if there was one. */
    async end(id: string): Promise<boolean> {
      const hash = hashOf(id);
      const known = live.get(hash);
      const was = !ended.has(hash) && known !== undefined && known.expires > now();
      live.delete(hash);
      ended.set(hash, known?.expires ?? now() + ttlSeconds * 1000);
      await save(hash, null);
      return was;
    },

    /** Sessions held in memory, and writes Redis has not taken yet (for tests). */
    get size() {
      return { live: live.size, ended: ended.size, unwritten: unwritten.size };
    },

    close() {
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
    },
  };
}

export type SessionStore = ReturnType<typeof sessionStore>;

function defaultLog(msg: string, err?: unknown) {
  console.error(
    JSON.stringify({
      level: err === undefined ? "info" : "warn",
      service: "admin-api",
      msg,
      // Described, never printed: the cache client's message carries the command, and
      // a session's write holds its CSRF token and fingerprint.
      ...(err === undefined ? {} : { error: describeError(err) }),
    }),
  );
}
