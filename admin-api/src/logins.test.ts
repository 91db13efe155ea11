import { describe, expect, test } from "bun:test";
import { signInLimiter } from "./logins.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const wrong = (address: string, account = "admin") => ({ address, account, verified: false });
const right = (address: string, account = "admin") => ({ address, account, verified: true });

describe("per address", () => {
  test("5 failures in a minute, then that address waits, even with the right password; the wait is until the first ages out", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    for (let i = 0; i < 5; i++) {
      expect(limit.attempt(wrong("203.0.113.1"))).toEqual({ outcome: "wrong" });
      c.advance(1000);
    }
    expect(limit.attempt(right("203.0.113.1"))).toEqual({ outcome: "wait", retryAfter: 55 });
    expect(limit.attempt(right("198.51.100.1"))).toEqual({ outcome: "allowed" });
    c.advance(55_000);
    expect(limit.attempt(right("203.0.113.1"))).toEqual({ outcome: "allowed" });
  });

  test("attempts made while waiting do not lengthen the wait", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    for (let i = 0; i < 5; i++) limit.attempt(wrong("203.0.113.2"));
    for (let i = 0; i < 50; i++) {
      c.advance(1000);
      limit.attempt(wrong("203.0.113.2"));
    }
    c.advance(10_000);
    expect(limit.attempt(right("203.0.113.2"))).toEqual({ outcome: "allowed" });
  });

  test("a sign-in clears the address's failures", () => {
    const limit = signInLimiter();
    for (let i = 0; i < 4; i++) limit.attempt(wrong("203.0.113.3"));
    expect(limit.attempt(right("203.0.113.3")).outcome).toBe("allowed");
    for (let i = 0; i < 4; i++) expect(limit.attempt(wrong("203.0.113.3")).outcome).toBe("wrong");
  });
});

describe("per account", () => {
  test("the flood of docs/reliability.md: 48 wrong passwords from 8 addresses are throttled (20 answered 'wrong', the rest wait), and the owner from a 9th address gets in", () => {
    const limit = signInLimiter();
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (let a = 2; a <= 9; a++) outcomes.push(limit.attempt(wrong(`127.0.0.${a}`)).outcome);
    }
    expect(outcomes.filter((o) => o === "wrong").length).toBe(20);
    expect(outcomes.filter((o) => o === "wait").length).toBe(28);
    // The last round: every flooding address waits, whatever its password.
    expect(outcomes.slice(-8).every((o) => o === "wait")).toBe(true);
    expect(limit.attempt(right("127.0.0.2")).outcome).toBe("wait");
    expect(limit.attempt(right("127.0.0.10")).outcome).toBe("allowed");
  });

  test("while the account is limited a wrong password from a fresh address waits, and costs that address its clean record", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    for (let i = 0; i < 20; i++) expect(limit.attempt(wrong(`10.0.0.${i}`)).outcome).toBe("wrong");
    const guess = limit.attempt(wrong("10.1.0.1"));
    expect(guess.outcome).toBe("wait");
    // That address failed lately: even the right password now waits…
    const after = limit.attempt(right("10.1.0.1"));
    expect(after).toEqual({ outcome: "wait", retryAfter: 60 });
    // …until the account's failures age out.
    c.advance(60_000);
    expect(limit.attempt(right("10.1.0.1")).outcome).toBe("allowed");
  });

  test("the user name is one account in any case; other accounts are not limited", () => {
    const limit = signInLimiter();
    for (let i = 0; i < 20; i++) limit.attempt(wrong(`10.0.0.${i}`, "admin"));
    expect(limit.attempt(wrong("10.2.0.1", "admin")).outcome).toBe("wait");
    expect(limit.attempt(wrong("10.2.0.2", "someone-else")).outcome).toBe("wrong");
  });

  test("a made-up name per attempt cannot grow memory without bound", () => {
    const limit = signInLimiter({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limit.attempt(wrong(`10.3.${i >> 8}.${i & 255}`, `user-${i}`));
    expect(limit.size.accounts).toBeLessThanOrEqual(100);
    expect(limit.size.addresses).toBeLessThanOrEqual(100);
  });
});
