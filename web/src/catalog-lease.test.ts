import { afterEach, expect, test } from "bun:test";
import type { FeedEvent, GrantReply, GrantRequest } from "@bazaar/lib/schemas.ts";
import { type CatalogLease, catalogLease } from "./catalog-lease.ts";

/** A change stream and a grant desk under the test's hand. */
function fakeApi({ granted = true, ms = 500 } = {}) {
  let push!: (event: FeedEvent) => void;
  let end!: () => void;
  const renewals: GrantRequest[] = [];
  let opened = 0;
  const api = {
    renewals,
    opened: () => opened,
    reply: { granted, ms } as { granted: boolean; ms: number; seq?: number },
    feed: "f1",
    seq: 0,
    send: (event: FeedEvent) => push(event),
    end: () => end(),
    transport: {
      open: (signal: AbortSignal) => {
        opened++;
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            push = (event) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
            end = () => controller.close();
            signal.addEventListener("abort", () => controller.error(new Error("aborted")));
          },
        });
        return Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
      },
      renew: (body: GrantRequest): Promise<GrantReply> => {
        renewals.push(body);
        return Promise.resolve({
          feed: api.feed,
          seq: api.reply.seq ?? api.seq,
          granted: api.reply.granted,
          ms: api.reply.ms,
        });
      },
    },
  };
  return api;
}

const leases: CatalogLease[] = [];
afterEach(() => {
  for (const l of leases.splice(0)) l.stop();
});
const start = (api: ReturnType<typeof fakeApi>, now?: () => number) => {
  const lease = catalogLease(api.transport, { log: () => {}, now });
  leases.push(lease);
  return lease;
};
const tick = (ms = 5) => Bun.sleep(ms);
const until = async (check: () => boolean, ms = 1000) => {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error("not in time");
    await tick(2);
  }
};

test("no grant, no memory: a lease is valid only once granted after the stream said where the feed is", async () => {
  const api = fakeApi();
  const lease = start(api);
  expect(lease.valid()).toBe(false);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 7 });
  api.seq = 7;
  await until(() => lease.valid());
  // The renewal said what is applied.
  expect(api.renewals.at(-1)).toMatchObject({ feed: "f1", applied: 7 });
});

test("a grant given at a later change than applied is not used until that change is applied", async () => {
  const api = fakeApi();
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.seq = 9;
  api.send({ type: "hello", feed: "f1", seq: 7 });
  await tick(40);
  expect(api.renewals.length).toBeGreaterThan(0);
  expect(lease.valid()).toBe(false);
  api.send({ type: "changes", feed: "f1", changes: [{ seq: 8, stems: ["tux"] }, { seq: 9, stems: [] }] });
  await until(() => lease.valid());
});

test("a change touches its items and the pages showing them, an insert or delete every page; what was checked after stays current", async () => {
  const api = fakeApi();
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => lease.valid());
  const before = lease.mark();
  expect(lease.itemCurrent("tux", before)).toBe(true);
  api.send({ type: "changes", feed: "f1", changes: [{ seq: 1, stems: [encodeURIComponent("red hat")] }] });
  await until(() => lease.stats().applied === 1);
  expect(lease.itemCurrent("red hat", before)).toBe(false);
  expect(lease.itemCurrent("tux", before)).toBe(true);
  expect(lease.pageCurrent(["fox", "red hat"], before)).toBe(false);
  expect(lease.pageCurrent(["fox", "tux"], before)).toBe(true);
  const after = lease.mark();
  expect(lease.itemCurrent("red hat", after)).toBe(true);
  expect(lease.pageCurrent(["fox", "red hat"], after)).toBe(true);
  // An insert or a delete (list): every page, not the items.
  api.send({ type: "changes", feed: "f1", changes: [{ seq: 2, stems: ["gnu"], list: true }] });
  await until(() => lease.stats().applied === 2);
  expect(lease.pageCurrent(["fox", "tux"], after)).toBe(false);
  expect(lease.itemCurrent("tux", after)).toBe(true);
  // "*": everything.
  api.send({ type: "changes", feed: "f1", changes: [{ seq: 3, stems: "*" }] });
  await until(() => lease.stats().applied === 3);
  expect(lease.itemCurrent("tux", after)).toBe(false);
});

test("a gap in the changes, a reset or a stream that ends: nothing held is trusted and no grant is used", async () => {
  const api = fakeApi();
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => lease.valid());
  const at = lease.mark();
  // A gap: 2 without 1 — the stream is given up and opened again.
  api.send({ type: "changes", feed: "f1", changes: [{ seq: 2, stems: ["tux"] }] });
  await until(() => api.opened() === 2);
  expect(lease.valid()).toBe(false);
  expect(lease.itemCurrent("anything", at)).toBe(false);
  api.seq = 5;
  api.send({ type: "hello", feed: "f1", seq: 5 });
  await until(() => lease.valid());
  // A reset (Redis lost the feed): forgotten again, until the new feed is applied and granted.
  const at2 = lease.mark();
  api.feed = "f2";
  api.seq = 0;
  api.send({ type: "reset", feed: "f2", seq: 0 });
  await until(() => lease.stats().resets === 1);
  expect(lease.itemCurrent("tux", at2)).toBe(false);
  await until(() => lease.valid());
  // The stream ends (the api drains): no grant until a new stream says where the feed is.
  api.end();
  await until(() => !lease.valid());
  await until(() => api.opened() === 3);
});

test("a refused renewal leaves the grant to run out; none given, none used", async () => {
  const api = fakeApi({ ms: 120 });
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => lease.valid());
  api.reply.granted = false;
  // 120 ms from before the last granted renewal was sent, at most.
  await until(() => !lease.valid(), 400);
  api.reply.granted = true;
  await until(() => lease.valid(), 400);
});

test("a grant is counted on the web server's clock from before it was asked for, shortened by the clocks' bound", async () => {
  let clock = 0;
  let release!: () => void;
  const api = fakeApi({ ms: 200 });
  let asked = 0;
  const renew = api.transport.renew;
  api.transport.renew = (body) => (asked++, new Promise((resolve) => (release = () => resolve(renew(body)))));
  const lease = start(api, () => clock);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => asked === 1);
  clock = 150; // the answer takes 150 ms of the grant's 200
  release();
  await until(() => lease.valid());
  clock = 197.9;
  expect(lease.valid()).toBe(true);
  clock = 198; // 200 × (1 − 0.01), from the send
  expect(lease.valid()).toBe(false);
});

test("renewals go on after the stream was lost and found again (a renewal asked while it was down ends at once)", async () => {
  const api = fakeApi();
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => lease.valid());
  api.end();
  await until(() => api.opened() === 2);
  await tick(300); // renewals asked for while no stream says where the feed is
  const before = api.renewals.length;
  api.send({ type: "hello", feed: "f1", seq: 0 });
  await until(() => api.renewals.length > before && lease.valid());
});

test("a lost stream gives the grant back at once, so no write waits for it to run out", async () => {
  const api = fakeApi();
  const lease = start(api);
  await until(() => api.opened() === 1);
  api.send({ type: "hello", feed: "f1", seq: 4 });
  await until(() => lease.valid());
  api.end();
  await until(() => api.renewals.some((r) => r.release));
  expect(lease.valid()).toBe(false);
  expect(api.renewals.find((r) => r.release)).toMatchObject({ feed: "f1", applied: 4, release: true });
});
