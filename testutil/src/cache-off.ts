// The apps' cache with reads off and no Redis behind it, for the route harness: every
// read goes to MySQL (as CACHE_ENABLED=false makes it), the writes the apps make to
// the cache anyway (a purchase's entry, an admin write's clear) are taken and dropped,
// and the plain keys admin-api keeps its sessions under live in memory (./memory-kv.ts).
import type { Cache } from "@bazaar/lib/data/cache.ts";
import { memoryKv } from "./memory-kv.ts";

/**
 * @example
 * const app = createApp({ db, cache: cacheOff(), token: "t" });
 */
export function cacheOff(): Cache {
  return {
    ttlSeconds: 300,
    enabled: () => false,
    setEnabled() {},
    // A script's caller reads its answer only when reads are on (catalogReads, the
    // orders' lookup); the rest only need it to have reached Redis ("cleared"): a
    // write's step reads an announcement from it ({_, feed "off", change 0}), and the
    // wait for web servers' acknowledgements finds none holding a grant (-1).
    script: () => async () => ["off", "off", 0, -1] as never,
    time: async () => Date.now(),
    set: async () => {},
    kv: memoryKv().kv,
    status: async () => "off",
    close() {},
  };
}
