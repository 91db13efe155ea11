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

describe("per account, with as many addresses as a guesser likes (a botnet, an IPv6 /64)", () => {
  /** Guesses for "admin", each from an address never seen before; the right password only at `right`. */
  const flood = (limit: ReturnType<typeof signInLimiter>, count: number, right = -1, from = 0) =>
    Array.from({ length: count }, (_, i) => {
      const a = from + i;
      return limit.attempt({
        address: `2001:db8::${a.toString(16)}`,
        account: "admin",
        verified: i === right,
      }).outcome;
    });

  test("in a minute at most 20 + 10 passwords are checked: the 30th new address with the right one gets in, the 31st waits", () => {
    // Before, every new address got a check: the right password got in after any number of guesses.
    const within = flood(signInLimiter(), 30, 29);
    expect(within.filter((o) => o === "wrong").length).toBe(20);
    expect(within.slice(20, 29)).toEqual(Array(9).fill("wait"));
    expect(within[29]).toBe("allowed");
    const beyond = flood(signInLimiter(), 1000, 30);
    expect(beyond[30]).toBe("wait");
    expect(beyond.filter((o) => o === "allowed")).toEqual([]);
  });

  test("the bound holds over time: every minute 20 + 10 more checks, never more, however long the flood", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    for (let minute = 0; minute < 5; minute++) {
      // A right password at the 31st guess of each minute is never checked…
      expect(flood(limit, 40, 30, minute * 1000)[30]).toBe("wait");
      c.advance(60_000);
    }
    // …and at the 30th it is: the budget is back each minute, no larger.
    const fresh = signInLimiter({ now: c.now });
    for (let minute = 0; minute < 3; minute++) {
      const outcomes = flood(fresh, 30, minute === 2 ? 29 : -1, minute * 1000);
      expect(outcomes.filter((o) => o === "wrong").length).toBe(20);
      if (minute === 2) expect(outcomes[29]).toBe("allowed");
      c.advance(60_000);
    }
  });

  test("during that flood the owner gets in from an address it signed in from before; a wrong guess from there waits a minute", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    expect(limit.attempt(right("198.51.100.1")).outcome).toBe("allowed");
    expect(limit.attempt(right("198.51.100.2")).outcome).toBe("allowed");
    flood(limit, 1000);
    expect(limit.attempt(right("2001:db8::ffff")).outcome).toBe("wait");
    expect(limit.attempt(right("198.51.100.1")).outcome).toBe("allowed");
    // A known address is checked, but a wrong password there bars it like any other…
    expect(limit.attempt(wrong("198.51.100.2"))).toEqual({ outcome: "wait", retryAfter: 60 });
    expect(limit.attempt(right("198.51.100.2")).outcome).toBe("wait");
    // …until its failure ages out (the flood still on).
    c.advance(60_000);
    flood(limit, 1000, -1, 5000);
    expect(limit.attempt(right("198.51.100.2")).outcome).toBe("allowed");
  });

  test("an address is known to the account it signed in to, for 30 days", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    limit.attempt(right("198.51.100.3", "owner"));
    limit.attempt(right("198.51.100.4"));
    c.advance(29 * 24 * 3600_000);
    limit.attempt(right("198.51.100.4"));
    flood(limit, 1000);
    // Known to "owner", not to "admin".
    expect(limit.attempt(right("198.51.100.3")).outcome).toBe("wait");
    expect(limit.attempt(right("198.51.100.4")).outcome).toBe("allowed");
    c.advance(31 * 24 * 3600_000);
    flood(limit, 1000, -1, 5000);
    expect(limit.attempt(right("198.51.100.4")).outcome).toBe("wait");
  });

  test("while the account is limited, an unchecked attempt answers the same and records nothing, whatever its password", () => {
    const c = clock();
    const limit = signInLimiter({ now: c.now });
    flood(limit, 30);
    c.advance(10_000);
    const a = limit.attempt(right("2001:db8::aaaa"));
    const b = limit.attempt(wrong("2001:db8::bbbb"));
    expect(a).toEqual(b);
    expect(a.outcome).toBe("wait");
    // Neither cost its address a failure: once the budget is back, both are checked.
    c.advance(50_000);
    expect(limit.attempt(right("2001:db8::aaaa")).outcome).toBe("allowed");
    expect(limit.attempt(right("2001:db8::bbbb")).outcome).toBe("allowed");
  });

  test("the addresses remembered as known are bounded too", () => {
    const limit = signInLimiter({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limit.attempt(right(`10.4.${i >> 8}.${i & 255}`, `user-${i}`));
    expect(limit.size.known).toBeLessThanOrEqual(100);
  });
});
