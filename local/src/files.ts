// Files the launcher writes that hold a secret (a password, a key): readable by its own
// user only.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Writes `text` to `dir`/`name`, owner only (0600, an older file's mode too), and
 * returns its path.
 *
 * @example writeOwnerOnly(runDir, "redis.conf", redisConf(password))
 */
export function writeOwnerOnly(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // an older file keeps its mode otherwise
  return file;
}
