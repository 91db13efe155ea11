import { describe, expect, test } from "bun:test";
import { revalidator } from "./revalidate.ts";

/** A check that answers when told to, each key with the value the source had when it started. */
function source() {
  let value = 0;
  const started: { keys: string[]; queries: unknown[]; finish: () => void; fail: (e: Error) => void }[] = [];
  const run = (batch: Map<string, unknown>) =>
    new Promise<Map<string, number>>((resolve, reject) => {
      const seen = value;
      started.push({
        keys: [...batch.keys()],
        queries: [...batch.values()],
        finish: () => resolve(new Map([...batch.keys()].map((k) => [k, seen]))),
        fail: reject,
      });
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
  test("idle: each call runs its own check", async () => {
    let runs = 0;
    const r = revalidator(async (batch: Map<string, null>) =>
      new Map([...batch.keys()].map((k) => [k, ++runs]))
    );
    expect(await r.check("k", null)).toBe(1);
    expect(await r.check("k", null)).toBe(2);
    expect(r.stats()).toEqual({ requests: 2, checks: 2 });
  });

  test("callers during a check wait for the next one, which answers all of them at once", async () => {
    const s = source();
    const r = revalidator(s.run);
    const first = r.check("k", null);
    s.set(1); // a write acknowledged after the first check read the source
    const late = [r.check("k", null), r.check("k", null), r.check("k", null)];
    expect(s.started.length).toBe(1); // no second check while one is in flight
    await s.finishNext();
    expect(await first).toBe(0);
    expect(s.started.length).toBe(1); // the next one started as soon as the first ended
    await s.finishNext();
    expect(await Promise.all(late)).toEqual([1, 1, 1]); // never the in-flight check's old 0
    expect(r.stats()).toEqual({ requests: 4, checks: 2 });
  });

  test("a write that lands while a check is in flight is seen by every caller that began after it", async () => {
    const s = source();
    const r = revalidator(s.run);
    const inFlight = r.check("k", null); // reads 0
    s.set(7); // acknowledged now
    const after = r.check("k", null);
    await s.finishNext();
    await s.finishNext();
    expect(await inFlight).toBe(0); // concurrent with the write: either is right
    expect(await after).toBe(7);
  });

  test("one check carries every key asked meanwhile, each once, with the first caller's query", async () => {
    const s = source();
    const r = revalidator(s.run);
    const first = r.check("a", "a1");
    const rest = [r.check("b", "b1"), r.check("a", "a2"), r.check("c", "c1"), r.check("b", "b2")];
    await s.finishNext();
    expect(s.started[0]).toMatchObject({ keys: ["b", "a", "c"], queries: ["b1", "a2", "c1"] });
    s.set(3);
    await s.finishNext();
    expect(await first).toBe(0);
    expect(await Promise.all(rest)).toEqual([0, 0, 0, 0]);
    expect(r.stats()).toEqual({ requests: 5, checks: 2 });
  });

  test("a failed check fails its callers only; the next check runs for those who came after", async () => {
    const s = source();
    const r = revalidator(s.run);
    const first = r.check("k", null);
    const second = r.check("k", null);
    s.started.shift()!.fail(new Error("down"));
    await expect(first).rejects.toThrow("down");
    await Bun.sleep(0);
    await s.finishNext();
    expect(await second).toBe(0);
    // A run that throws synchronously is a failed check, not a stuck revalidator.
    let sync = true;
    const r2 = revalidator(async (batch: Map<string, null>) => {
      if (sync) throw new Error("sync");
      return new Map([...batch.keys()].map((k) => [k, "again"]));
    });
    await expect(r2.check("k", null)).rejects.toThrow("sync");
    sync = false;
    expect(await r2.check("k", null)).toBe("again");
  });

  test("a key the check did not answer fails its caller, and only it", async () => {
    const r = revalidator(async () => new Map([["a", 1]]));
    expect(await r.check("a", null)).toBe(1);
    await expect(r.check("b", null)).rejects.toThrow("did not answer b");
  });

  test("with maxWaitMs, a caller waiting for the next check gives up in time; the check goes on", async () => {
    const s = source();
    const r = revalidator(s.run, { maxWaitMs: 20, late: () => new Error("late") });
    const first = r.check("k", null);
    const waiting = r.check("k", null);
    await expect(waiting).rejects.toThrow("late");
    await s.finishNext(); // the first check ends; the next one starts all the same
    expect(await first).toBe(0);
    expect(s.started.length).toBe(1);
    await s.finishNext();
  });

  test("with gatherMs, the next check waits that long after the one before started, and answers everyone who came meanwhile", async () => {
    let runs = 0;
    const r = revalidator(
      async (batch: Map<string, null>) => {
        runs++;
        return new Map([...batch.keys()].map((k) => [k, runs]));
      },
      { gatherMs: 30 },
    );
    const first = r.check("k", null); // idle: at once
    expect(runs).toBe(1);
    const batch = [r.check("k", null), r.check("j", null)];
    await first;
    await Bun.sleep(5);
    expect(runs).toBe(1); // held: 30 ms since the first started have not passed
    batch.push(r.check("k", null)); // still joins the coming check
    expect(await Promise.all(batch)).toEqual([2, 2, 2]);
    await Bun.sleep(40);
    expect(await r.check("k", null)).toBe(3); // idle again: at once
    expect(r.stats()).toEqual({ requests: 5, checks: 3 });
  });
});
