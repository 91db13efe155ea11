// A network partition of one local process, for tests of what a cut-off node does.
// Every TCP segment to or from a port its sockets hold is dropped (iptables), and so is
// every segment from a socket it opens later: the process is moved into a cgroup of its
// own (cgroup2) that a rule matches — a socket keeps the cgroup it was made in, hence
// the ports for the ones it has. Except the ports a test still wants to talk to it on
// (a database's SQL port, to see it refuse). To its peers it is as gone as behind a cut
// cable, while it keeps running. Needs root, iptables with the cgroup and multiport
// matches, ss (iproute2), and a cgroup2 mount.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Where the cgroup2 hierarchy is mounted: /sys/fs/cgroup itself, or its `unified` dir on a hybrid host. */
function cgroup2Root(): string {
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n");
  const line = mounts.find((l) => l.split(" ")[2] === "cgroup2");
  if (!line) {
    throw new Error("no cgroup2 mount: a partition needs one (/sys/fs/cgroup or /sys/fs/cgroup/unified)");
  }
  return line.split(" ")[1]!;
}

async function iptables(args: string[]) {
  const p = Bun.spawn(["iptables", "-w", ...args], { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`iptables ${args.join(" ")}: ${err.trim() || `exit ${code}`}`);
}

/** The local TCP ports of `pid`'s sockets, listening and connected (ss: iproute2). */
async function portsOf(pid: number): Promise<number[]> {
  const p = Bun.spawn(["ss", "-tanpH"], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const ports = out.split("\n").filter((l) => l.includes(`pid=${pid},`)).map((l) =>
    Number(l.trim().split(/\s+/)[3]!.split(":").at(-1))
  );
  return [...new Set(ports)].filter((port) => port > 0);
}

/** A partition in force: heal() lifts it (the rule removed, the process moved back). */
export type Partition = { heal(): Promise<void> };

/**
 * Cuts process `pid` off the network, but for replies from `keepPorts`.
 *
 * @example
 * const cut = await partition(stack.pid("db-3")!, { keepPorts: [sqlPort] });
 * try { … } finally { await cut.heal(); }
 */
export async function partition(
  pid: number,
  { keepPorts = [] }: { keepPorts?: number[] } = {},
): Promise<Partition> {
  const root = cgroup2Root();
  const name = `bazaar-partition-${pid}`;
  const dir = path.join(root, name);
  const before = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"))
    ?.slice(3) || "/";
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
  const held = (await portsOf(pid)).filter((port) => !keepPorts.includes(port));
  const except = keepPorts.length ? ["-m", "multiport", "!", "--sports", keepPorts.join(",")] : [];
  const rules = [
    ["OUTPUT", "-m", "cgroup", "--path", name, "-p", "tcp", ...except, "-j", "DROP"],
    ...held.flatMap((port) => [
      ["OUTPUT", "-p", "tcp", "--sport", String(port), "-j", "DROP"],
      ["OUTPUT", "-p", "tcp", "--dport", String(port), "-j", "DROP"],
    ]),
  ];
  for (const rule of rules) await iptables(["-I", ...rule]);
  let healed = false;
  return {
    async heal() {
      if (healed) return;
      healed = true;
      for (const rule of rules) await iptables(["-D", ...rule]).catch(() => {});
      // Back where it was (if it still runs), so the cgroup can go.
      if (existsSync(`/proc/${pid}`)) {
        try {
          writeFileSync(path.join(root, before, "cgroup.procs"), String(pid));
        } catch {
          writeFileSync(path.join(root, "cgroup.procs"), String(pid));
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        // A process it forked may still be in it; the empty dir is harmless.
      }
    },
  };
}
