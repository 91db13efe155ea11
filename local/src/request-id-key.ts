// The proxy's copy of the request-id key: HAProxy reads it from a map file
// (proxy/haproxy.cfg, REQUEST_ID_KEY_MAP), which the launcher writes before the proxy
// starts — the local counterpart of the secrets service's proxy/ volume.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { requestIdKeyMap } from "@bazaar/lib/request-id.ts";

/** Writes `dir`/request-id-key.map (owner only: HAProxy runs as the launcher's user) and returns its path. */
export function writeRequestIdKeyMap(dir: string, key: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "request-id-key.map");
  writeFileSync(file, requestIdKeyMap(key), { mode: 0o600 });
  chmodSync(file, 0o600); // an older file keeps its mode otherwise
  return file;
}
