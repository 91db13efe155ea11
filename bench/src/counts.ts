// What the tiers count of their own work, read from each one's /healthz before and
// after a run: the web servers' coalesced checks (requests that needed an entry, and
// the checks to the api made for them, and the reads answered from their memory inside
// a grant with no check at all) and the api's catalogue reads (answered from Redis
// alone, or with MySQL statements on a miss).

export type Checks = { requests: number; checks: number };
/** The api's catalogue counts (api/src/catalog-reads.ts CatalogStats). */
export type CatalogCounts = {
  reads: number;
  hits: number;
  db_queries: number;
  fills: number;
  untrusted: number;
};
/** The api's relay counts (api/src/relay.ts RelayStats). */
export type RelayCounts = {
  cycles: number;
  rows: number;
  updated: number;
  dropped: number;
  failed: number;
};
export type TierCounts = {
  web: Checks;
  /** Catalogue reads the web servers answered from memory (web/src/catalog-reader.ts from_memory). */
  fromMemory: number;
  catalog: CatalogCounts;
  relay: RelayCounts;
};

const NO_CHECKS: Checks = { requests: 0, checks: 0 };
const NO_READS: CatalogCounts = { reads: 0, hits: 0, db_queries: 0, fills: 0, untrusted: 0 };
const NO_RELAY: RelayCounts = { cycles: 0, rows: 0, updated: 0, dropped: 0, failed: 0 };

const healthz = async <T>(url: string): Promise<T> =>
  ((await (await fetch(`${url}/healthz`)).json()) as { data: T }).data;

/** Field by field a + b (or a − b with sign −1), for records of counts. */
const combine = <T extends Record<string, number>>(a: T, b: T, sign = 1): T =>
  Object.fromEntries(Object.keys(a).map((k) => [k, a[k]! + sign * (b[k] ?? 0)])) as T;

/** The web servers' checks summed, and the api's catalogue and relay counts. */
export async function tierCounts(webUrls: string[], apiUrl: string): Promise<TierCounts> {
  const [webs, api] = await Promise.all([
    Promise.all(webUrls.map((u) => healthz<{ revalidation?: Checks; from_memory?: number }>(u))),
    healthz<{ catalog?: CatalogCounts; relay?: RelayCounts }>(apiUrl),
  ]);
  return {
    web: webs.map((w) => w.revalidation ?? NO_CHECKS).reduce((a, b) => combine(a, b), NO_CHECKS),
    fromMemory: webs.reduce((n, w) => n + (w.from_memory ?? 0), 0),
    catalog: { ...NO_READS, ...api.catalog },
    relay: { ...NO_RELAY, ...api.relay },
  };
}

/** What was counted between two readings. The api restarted in between would count from 0: not done here. */
export const countedSince = (after: TierCounts, before: TierCounts): TierCounts => ({
  web: combine(after.web, before.web, -1),
  fromMemory: after.fromMemory - before.fromMemory,
  catalog: combine(after.catalog, before.catalog, -1),
  relay: combine(after.relay, before.relay, -1),
});

/** A web server's lease as its /healthz tells it (web/src/catalog-lease.ts stats); null with its memory off. */
export type LeaseStats = {
  streams: number;
  changes: number;
  resets: number;
  renewals: number;
  granted: number;
  refused: number;
  /** Whether it holds a grant (its own flag: true may still mean one that has run out). */
  valid: boolean;
  applied: number;
};

/**
 * Each web server's lease, by its name (web-1, web-2, …, in the order of `webUrls`).
 *
 * @example const leases = await webLeases(stack.urls.web); // [{ web: "web-1", lease: { valid: true, … } }, …]
 */
export const webLeases = async (webUrls: string[]) =>
  await Promise.all(webUrls.map(async (u, i) => ({
    web: `web-${i + 1}`,
    lease: (await healthz<{ lease?: LeaseStats }>(u)).lease ?? null,
  })));
