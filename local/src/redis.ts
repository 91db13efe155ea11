// Redis as the launcher runs it: every client must give the password (the bridge has it
// in its connection string), and, started by root, it runs as Debian's `redis` account
// rather than as root. The password is in a config file the launcher's own user reads
// and hands to redis-server on its standard input: never on a command line (which
// every local user can read), and no file the redis account must be able to reach
// (the data dir may sit in root's home).
import { readFileSync } from "node:fs";
import { redisConf } from "@bazaar/lib/secrets/secrets.ts";
import { writeOwnerOnly } from "./files.ts";
import { isRoot, which } from "./system.ts";

/** Writes `dir`/redis.conf (owner only: it holds the password) and returns its path. */
export function writeRedisConf(dir: string, password: string): string {
  return writeOwnerOnly(dir, "redis.conf", redisConf(password));
}

/** Whether the system has this account (/etc/passwd: Debian's redis-server package adds `redis`). */
export function hasAccount(name: string, passwd = "/etc/passwd"): boolean {
  try {
    return readFileSync(passwd, "utf8").split("\n").some((line) => line.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/**
 * The account redis-server runs as: `redis` when the launcher is root and the account
 * and setpriv (util-linux) are there; undefined (the launcher's own user) otherwise.
 */
export function redisAccount(): string | undefined {
  return isRoot() && hasAccount("redis") && which("setpriv") ? "redis" : undefined;
}

/**
 * The command: a shell that opens `conf` as the launcher's user and puts it on the
 * standard input of redis-server (`-` reads its config from there; the options after
 * it win over it), through setpriv when it runs as `account`. Each step execs the
 * next, so the pid is redis-server's own.
 */
export function redisCommand(bin: string, conf: string, options: string[], account?: string): string[] {
  const as = account
    ? [which("setpriv")!, `--reuid=${account}`, `--regid=${account}`, "--clear-groups", "--"]
    : [];
  return ["/bin/sh", "-c", 'exec "$@" <"$0"', conf, ...as, bin, "-", ...options];
}
