import { expect, test } from "bun:test";
import { oneAtATime } from "./one-at-a-time.ts";

test("calls while it runs make one more run after it, not one each, and never two at once", async () => {
  let runs = 0;
  let inside = 0;
  let most = 0;
  const run = oneAtATime(async () => {
    runs++;
    most = Math.max(most, ++inside);
    await Bun.sleep(10);
    inside--;
  });
  const first = run();
  void run();
  void run();
  await first;
  expect([runs, most]).toEqual([2, 1]);
  await run();
  expect(runs).toBe(3);
});

test("a task that ends without awaiting does not stop the next call from running", async () => {
  let runs = 0;
  const run = oneAtATime(() => {
    runs++;
    return Promise.resolve();
  });
  await run();
  await run();
  await run();
  expect(runs).toBe(3);
});
