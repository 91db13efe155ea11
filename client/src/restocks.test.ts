import { describe, expect, test } from "bun:test";
import { RestockWatch } from "./restocks.ts";

describe("restocks seen", () => {
  test("stock that went up between two reads, one after the other, is a restock", () => {
    const w = new RestockWatch();
    w.observe("Tux", 1, 0, 1);
    w.observe("Tux", 0, 2, 3);
    w.observe("Tux", 100, 4, 5);
    expect(w.summary()).toEqual({ count: 1, by_product: { Tux: 1 } });
  });

  test("stock going down, or staying, is not", () => {
    const w = new RestockWatch();
    for (const [i, q] of [5, 4, 4, 3, 0, 0].entries()) w.observe("Fox", q, i * 2, i * 2 + 1);
    expect(w.summary()).toEqual({ count: 0, by_product: {} });
  });

  test("overlapping reads are not compared: the higher one may have been answered first", () => {
    const w = new RestockWatch();
    w.observe("Tux", 4, 0, 10);
    // Started before the first ended: it may have read the stock before a purchase.
    w.observe("Tux", 5, 5, 12);
    expect(w.summary().count).toBe(0);
  });

  test("one restock is counted once, however many reads then show it", () => {
    const w = new RestockWatch();
    w.observe("Tux", 0, 0, 1);
    // Three sessions read at once after the restock; each began after the read at 0.
    w.observe("Tux", 100, 2, 5);
    w.observe("Tux", 100, 3, 6);
    w.observe("Tux", 99, 4, 7);
    w.observe("Tux", 98, 8, 9);
    expect(w.summary()).toEqual({ count: 1, by_product: { Tux: 1 } });
  });

  test("names are one product ignoring case; products are counted apart, sorted by name", () => {
    const w = new RestockWatch();
    w.observe("tux", 0, 0, 1);
    w.observe("Tux", 10, 2, 3);
    w.observe("Fox", 0, 0, 1);
    w.observe("Fox", 10, 2, 3);
    w.observe("Fox", 0, 4, 5);
    w.observe("Fox", 10, 6, 7);
    expect(w.summary()).toEqual({ count: 3, by_product: { Fox: 2, Tux: 1 } });
  });
});
