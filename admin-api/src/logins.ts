// The sign-in limit, kept here so that both admin servers share it (admin-api is one
// process; in memory, so it works whatever the cache is doing). Two counts of failed
// sign-ins in a sliding window:
// - per client address: `perAddress` failures, then that address waits;
// - per account (the user name, lowercased): `perAccount` failures from all addresses
//   together, then wrong passwords for it wait — but a right password from an address
//   with no failure in the window still gets in, so a flood from other addresses never
//   locks the owner out. An address that guesses while the account is limited gets a
//   failure of its own, so during a flood each address has one guess per window.
// A blocked attempt answers "wait" whether its password was right or not, so the
// answer tells a blocked guesser nothing.

export type LimitOptions = {
  /** Failed sign-ins per address in a window (default 5). */
  perAddress?: number;
  /** Failed sign-ins per account in a window, from all addresses (default 20). */
  perAccount?: number;
  windowMs?: number;
  /** Most addresses or accounts remembered; beyond, the oldest are forgotten (a flood of made-up names). */
  maxKeys?: number;
  now?: () => number;
};

export type Attempt = { address: string; account: string; verified: boolean };
export type Decision = { outcome: "allowed" } | { outcome: "wrong" } | {
  outcome: "wait";
  retryAfter: number;
};

/** Failure times per key in a sliding window, at most `limit` kept per key. */
function failureWindow(limit: number, windowMs: number, maxKeys: number, now: () => number) {
  const failures = new Map<string, number[]>();
  const recent = (key: string) => {
    const t = now();
    const list = (failures.get(key) ?? []).filter((at) => t - at < windowMs);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  return {
    recent,
    /** When the window of this key's oldest kept failure ends. */
    until: (list: number[]) => list[0]! + windowMs,
    full: (list: number[]) => list.length >= limit,
    fail(key: string) {
      const list = recent(key);
      list.push(now());
      failures.delete(key); // re-inserted last: Map order is then oldest-first
      failures.set(key, list.slice(-limit));
      if (failures.size > maxKeys) {
        for (const k of [...failures.keys()]) recent(k);
        for (const k of failures.keys()) {
          if (failures.size <= maxKeys) break;
          failures.delete(k);
        }
      }
    },
    clear: (key: string) => void failures.delete(key),
    get size() {
      return failures.size;
    },
  };
}

export function signInLimiter(
  { perAddress = 5, perAccount = 20, windowMs = 60_000, maxKeys = 10_000, now = () => Date.now() }:
    LimitOptions = {},
) {
  const addresses = failureWindow(perAddress, windowMs, maxKeys, now);
  const accounts = failureWindow(perAccount, windowMs, maxKeys, now);
  const wait = (until: number): Decision => ({
    outcome: "wait",
    retryAfter: Math.max(1, Math.ceil((until - now()) / 1000)),
  });
  return {
    /** Decides one sign-in whose password was already checked (`verified`), and records it. */
    attempt({ address, account, verified }: Attempt): Decision {
      const mine = addresses.recent(address);
      if (addresses.full(mine)) return wait(addresses.until(mine));
      const theirs = accounts.recent(account);
      const accountLimited = accounts.full(theirs);
      if (verified) {
        if (!accountLimited || mine.length === 0) {
          addresses.clear(address);
          return { outcome: "allowed" };
        }
        // The right password, but from an address that failed lately while the account
        // is limited: in once either its own failures or the account's have aged out.
        return wait(Math.min(accounts.until(theirs), mine.at(-1)! + windowMs));
      }
      addresses.fail(address);
      if (accountLimited) return wait(accounts.until(theirs));
      accounts.fail(account);
      return { outcome: "wrong" };
    },
    /** How many addresses and accounts are remembered (for tests). */
    get size() {
      return { addresses: addresses.size, accounts: accounts.size };
    },
  };
}

export type SignInLimiter = ReturnType<typeof signInLimiter>;
