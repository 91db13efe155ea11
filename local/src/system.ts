// The system programs the stack runs (MariaDB, Redis, HAProxy) come from Debian
// packages. A missing one is named with its package; as root on Debian/Ubuntu it is
// installed with apt-get, so a fresh machine needs one command.
import { existsSync, readFileSync, writeFileSync, rmSync } from "node:fs";

export type Program = { bin: string; pkg: string };

export const PROGRAMS = {
  mariadbd: { bin: "mariadbd", pkg: "mariadb-server" },
  installDb: { bin: "mariadb-install-db", pkg: "mariadb-server" },
  mariadb: { bin: "mariadb", pkg: "mariadb-client" },
  redis: { bin: "redis-server", pkg: "redis-server" },
  haproxy: { bin: "haproxy", pkg: "haproxy" },
} satisfies Record<string, Program>;

// Daemons live in sbin, which a non-root PATH often lacks.
const SEARCH_PATH = [process.env.PATH ?? "", "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"]
  .filter(Boolean)
  .join(":");

export const which = (bin: string): string | null => Bun.which(bin, { PATH: SEARCH_PATH });

export const isRoot = () => process.getuid?.() === 0;

const isDebianLike = () => {
  if (existsSync("/etc/debian_version")) return true;
  try {
    return /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(readFileSync("/etc/os-release", "utf8"));
  } catch {
    return false;
  }
};

export class MissingProgramError extends Error {}

/**
 * Resolves every program to its path. Missing ones are installed when we may
 * (root on Debian/Ubuntu and `install` not false), else a message names the packages.
 */
export async function requirePrograms<const K extends string>(
  programs: Record<K, Program>,
  opts: { install?: boolean; log?: (line: string) => void } = {},
): Promise<Record<K, string>> {
  const find = () => Object.entries<Program>(programs).filter(([, p]) => !which(p.bin));
  let missing = find();
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p.pkg))];
    const canInstall = (opts.install ?? true) && isRoot() && isDebianLike() && which("apt-get");
    if (!canInstall) {
      throw new MissingProgramError(
        `missing ${missing.map(([, p]) => p.bin).join(", ")}: install the Debian package(s) ${pkgs.join(" ")}\n` +
          `  (e.g. sudo apt-get install -y ${pkgs.join(" ")})`,
      );
    }
    opts.log?.(`installing ${pkgs.join(" ")} with apt-get…`);
    await aptInstall(pkgs);
    missing = find();
    if (missing.length) throw new MissingProgramError(`apt-get installed ${pkgs.join(" ")} but ${missing.map(([, p]) => p.bin).join(", ")} is still not found`);
  }
  return Object.fromEntries(Object.entries<Program>(programs).map(([k, p]) => [k, which(p.bin)!])) as Record<K, string>;
}

async function aptInstall(pkgs: string[]) {
  // policy-rc.d answering 101 stops the packages' postinst from starting the system
  // mariadb/redis/haproxy services, which would take the ports the stack uses.
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = async (args: string[]) => {
    const p = Bun.spawn(["apt-get", ...args], { env, stdout: "inherit", stderr: "inherit", stdin: "ignore" });
    return (await p.exited) === 0;
  };
  try {
    const install = ["install", "-y", "--no-install-recommends", ...pkgs];
    // A fresh machine may have no package lists yet: update once and retry.
    if (!(await run(install)) && !((await run(["update"])) && (await run(install)))) {
      throw new MissingProgramError(`apt-get install ${pkgs.join(" ")} failed`);
    }
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}
