import { describe, expect, test } from "bun:test";
import { revalidator } from "./revalidate.ts";

/** A check that answers when told to, with the value the source had when it started. */
function source() {
  let value = 0;
  const started: { seen: number; finish: () => void }[] = [];
  const run = () =>
    new Promise<number>((resolve) => {
      const seen = value;
      started.push({ seen, finish: () => resolve(seen) });
    });
  return {
    run,
    started,
    set: (v: number) => (value = v),
    finishNext: async () => {
      started.shift()!.finish();
      await Bun.sleep(0);
    },
  };
}

describe("revalidator", () => {
  test("an idle key: each call runs its own check", async () => {
    const r = revalidator();
    let runs = 0;
    expect(await r.check("k", async () => ++runs)).toBe(1);
    expect(await r.check("k", async () => ++runs)).toBe(2);
    expect(r.stats()).toEqual({ requests: 2, checks: 2 });
  });

  test("callers during a check wait for the next one, which answers all of them at once", async () => {
    const r = revalidator();
    const s = source();
    const first = r.check("k", s.run);
    s.set(1); // a write acknowledged after the first check read the source
    const late = [r.check("k", s.run), r.check("k", s.run), r.check("k", s.run)];
    expect(s.started.length).toBe(1); // no second check while one is in flight
    await s.finishNext();
    expect(await first).toBe(0);
    expect(s.started.length).toBe(1); // the next one started as soon as the first ended
    await s.finishNext();
    expect(await Promise.all(late)).toEqual([1, 1, 1]); // never the in-flight check's old 0
    expect(r.stats()).toEqual({ requests: 4, checks: 2 });
  });

  test("a write that lands while a check is in flight is seen by every caller that began after it", async () => {
    const r = revalidator();
    const s = source();
    const inFlight = r.check("k", s.run); // reads 0
    s.set(7); // acknowledged now
    const after = r.check("k", s.run);
    await s.finishNext();
    await s.finishNext();
    expect(await inFlight).toBe(0); // concurrent with the write: either is right
    expect(await after).toBe(7);
  });

  test("keys are independent", async () => {
    const r = revalidator();
    const a = source();
    const b = source();
    const pa = r.check("a", a.run);
    const pb = r.check("b", b.run);
    expect(a.started.length + b.started.length).toBe(2);
    await a.finishNext();
    await b.finishNext();
    expect(await Promise.all([pa, pb])).toEqual([0, 0]);
  });

  test("a failed check fails its callers only; the next check runs for those who came after", async () => {
    const r = revalidator();
    let fail = true;
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const run = async () => {
      const down = fail; // the source as it was when the check started
      await gate;
      if (down) throw new Error("down");
      return "ok";
    };
    const first = r.check("k", run);
    const second = r.check("k", async () => "ok");
    fail = false;
    release();
    await expect(first).rejects.toThrow("down");
    expect(await second).toBe("ok");
    // And a run that throws synchronously is a failed check, not a stuck key.
    await expect(r.check("k", () => {
      throw new Error("sync");
    })).rejects.toThrow("sync");
    expect(await r.check("k", async () => "again")).toBe("again");
  });

  test("with maxWaitMs, a caller waiting for the next check gives up in time; the check goes on", async () => {
    const r = revalidator({ maxWaitMs: 20, late: () => new Error("late") });
    const s = source();
    const first = r.check("k", s.run);
    const waiting = r.check("k", s.run);
    await expect(waiting).rejects.toThrow("late");
    await s.finishNext(); // the first check ends; the next one starts all the same
    expect(await first).toBe(0);
    expect(s.started.length).toBe(1);
    await s.finishNext();
  });

  test("with gatherMs, the next check waits that long after the one before started, and answers everyone who came meanwhile", async () => {
    const r = revalidator({ gatherMs: 30 });
    let runs = 0;
    const run = async () => ++runs;
    const first = r.check("k", run); // idle: at once
    expect(runs).toBe(1);
    const batch = [r.check("k", run), r.check("k", run)];
    await first;
    await Bun.sleep(5);
    expect(runs).toBe(1); // held: 30 ms since the first started have not passed
    batch.push(r.check("k", run)); // still joins the coming check
    expect(await Promise.all(batch)).toEqual([2, 2, 2]);
    await Bun.sleep(40);
    expect(await r.check("k", run)).toBe(3); // idle again: at once
    expect(r.stats()).toEqual({ requests: 5, checks: 3 });
  });
});
