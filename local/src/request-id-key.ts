// The proxy's copy of the request-id key: HAProxy reads it from a map file
// (proxy/haproxy.cfg, REQUEST_ID_KEY_MAP), which the launcher writes before the proxy
// starts — the local counterpart of the secrets service's proxy/ volume.
import { requestIdKeyMap } from "@bazaar/lib/request-id.ts";
import { writeOwnerOnly } from "./files.ts";

/** Writes `dir`/request-id-key.map (owner only: HAProxy runs as the launcher's user) and returns its path. */
export function writeRequestIdKeyMap(dir: string, key: string): string {
  return writeOwnerOnly(dir, "request-id-key.map", requestIdKeyMap(key));
}
