// The sign-in limit, kept here so that both admin servers share it (admin-api is one
// process; in memory, so it works whatever the cache is doing). Failed sign-ins are
// counted in a sliding window (a minute):
// - per client address: `perAddress` failures, then that address waits, whatever its
//   password;
// - per account (the user name, lowercased): `perAccount` failures from all addresses
//   together, then the account is limited. While it is, a password is checked only
//   for an address with no failure in the window (one with one waits, unchecked), and
//   only while the account's budget of `freshPerAccount` such checks in the window
//   lasts, or for an address the account signed in from in the last `knownForMs`.
//   A wrong one still waits, and costs that address its clean record.
// So in any window at most perAccount + freshPerAccount wrong passwords for one account
// are found wrong, plus one per address it has signed in from lately: however many
// addresses a guesser has. And the owner still gets in during a flood: from an address
// it signed in from before (which a guesser cannot make known without the password),
// or from a new one while the budget lasts (a flood from a few addresses never spends
// it: their failures bar them first).
// An attempt that is not checked answers "wait", records nothing and says nothing
// about its password. The address is only ever the proxy's word (lib/src/forwarded.ts):
// clients it did not vouch for are one address.

export type LimitOptions = {
  /** Failed sign-ins per address in a window (default 5). */
  perAddress?: number;
  /** Failed sign-ins per account in a window, from all addresses, before it is limited (default 20). */
  perAccount?: number;
  /** Passwords checked per account in a window, while it is limited, for addresses it has not signed in from (default 10). */
  freshPerAccount?: number;
  /** How long an address an account signed in from keeps its check during a limit (default 30 days). */
  knownForMs?: number;
  windowMs?: number;
  /** Most addresses, accounts or known pairs remembered; beyond, the oldest are forgotten (a flood of made-up names). */
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

/** The addresses each account signed in from, with when (at most `maxKeys` pairs, oldest forgotten first). */
function knownAddresses(knownForMs: number, maxKeys: number, now: () => number) {
  const known = new Map<string, number>();
  const pair = (account: string, address: string) => `${account}\n${address}`;
  return {
    has(account: string, address: string) {
      const at = known.get(pair(account, address));
      return at !== undefined && now() - at < knownForMs;
    },
    add(account: string, address: string) {
      const key = pair(account, address);
      known.delete(key); // re-inserted last: Map order is then oldest-first
      known.set(key, now());
      for (const k of known.keys()) {
        if (known.size <= maxKeys) break;
        known.delete(k);
      }
    },
    get size() {
      return known.size;
    },
  };
}

export function signInLimiter(
  {
    perAddress = 5,
    perAccount = 20,
    freshPerAccount = 10,
    knownForMs = 30 * 24 * 60 * 60_000,
    windowMs = 60_000,
    maxKeys = 10_000,
    now = () => Date.now(),
  }: LimitOptions = {},
) {
  const addresses = failureWindow(perAddress, windowMs, maxKeys, now);
  const accounts = failureWindow(perAccount, windowMs, maxKeys, now);
  // The wrong passwords found while each account was limited, from addresses it did not know.
  const fresh = failureWindow(freshPerAccount, windowMs, maxKeys, now);
  const known = knownAddresses(knownForMs, maxKeys, now);
  const wait = (until: number): Decision => ({
    outcome: "wait",
    retryAfter: Math.max(1, Math.ceil((until - now()) / 1000)),
  });
  const allowed = (account: string, address: string): Decision => {
    addresses.clear(address);
    known.add(account, address);
    return { outcome: "allowed" };
  };
  return {
    /** Decides one sign-in whose password was already checked (`verified`), and records it. */
    attempt({ address, account, verified }: Attempt): Decision {
      const mine = addresses.recent(address);
      if (addresses.full(mine)) return wait(addresses.until(mine));
      const theirs = accounts.recent(account);
      if (!accounts.full(theirs)) {
        if (verified) return allowed(account, address);
        addresses.fail(address);
        accounts.fail(account);
        return { outcome: "wrong" };
      }
      // The account is limited. Not checked: the same answer, nothing recorded, whatever
      // the password — in once the address's failures or the account's have aged out.
      const free = accounts.until(theirs);
      if (mine.length > 0) return wait(Math.min(free, mine.at(-1)! + windowMs));
      const isKnown = known.has(account, address);
      const spent = fresh.recent(account);
      if (!isKnown && fresh.full(spent)) return wait(Math.min(free, fresh.until(spent)));
      // Checked.
      if (verified) return allowed(account, address);
      addresses.fail(address);
      if (!isKnown) fresh.fail(account);
      return wait(free);
    },
    /** How many addresses, accounts and known pairs are remembered (for tests). */
    get size() {
      return { addresses: addresses.size, accounts: accounts.size, fresh: fresh.size, known: known.size };
    },
  };
}

export type SignInLimiter = ReturnType<typeof signInLimiter>;
