// The bench's own local stack (data in .local/bench, fresh each time; with three
// database nodes in .local/bench-cluster, on the same ports once the first is stopped) and the
// ceiling's HAProxy and fixed-page servers beside it, on ports of their own
// (PORT_PLAN.bench and .ceiling: 61xxx, above Linux's ephemeral range and clear of
// every test stack and of compose's). All of them are checked free before anything
// starts; one taken is named.
import { readFileSync } from "node:fs";
import {
  nodeNames,
  nodePorts,
  plannedPorts,
  type Ports,
  portTaken,
  type Stack,
  type StackOptions,
  startStack,
} from "../../local/src/index.ts";

export const PORTS: Ports = plannedPorts("bench");

/** The ceiling: its HAProxy (admin's servers are the same two fixed-page servers as web's). */
const ceiling = plannedPorts("ceiling");
export const CEILING_PORTS: Ports = { ...ceiling, admin1: ceiling.web1, admin2: ceiling.web2 };

/** Database nodes of the three-node run (--cluster): db-1 … db-3 on DB_PORT + 10n (61316 …). */
export const CLUSTER_NODES = 3;

/** The bench stack's ports, and its nodes' when it runs three. */
export const STACK_PORTS: readonly { port: number; what: string }[] = [
  ...Object.entries(PORTS).map(([k, port]) => ({ port, what: `the bench stack's ${k}` })),
  ...nodeNames(CLUSTER_NODES).flatMap((node, i) =>
    Object.entries(nodePorts(PORTS.db, i + 1)).map(([k, port]) => ({
      port,
      what: `the three-node run's ${node} ${k}`,
    }))
  ),
];

/** Every port the bench listens on, with what listens there. */
export const BENCH_PORTS: readonly { port: number; what: string }[] = [
  ...STACK_PORTS,
  { port: CEILING_PORTS.store, what: "the ceiling's HAProxy" },
  { port: CEILING_PORTS.stats, what: "the ceiling's HAProxy stats" },
  { port: CEILING_PORTS.web1, what: "the ceiling's fixed-page server 1" },
  { port: CEILING_PORTS.web2, what: "the ceiling's fixed-page server 2" },
];

/** This machine's ephemeral port range (net.ipv4.ip_local_port_range), or Linux's default. */
export function ephemeralRange(file = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
  try {
    const [low, high] = readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux, or not readable: the default.
  }
  return [32768, 60999];
}

export class BenchPortsTaken extends Error {}

/** Refuses to start when a port of the bench is taken, naming each (and what would listen there). */
export async function checkBenchPorts(ports = BENCH_PORTS) {
  const taken: typeof ports[number][] = [];
  for (const p of ports) if (await portTaken(p.port)) taken.push(p);
  if (taken.length) {
    throw new BenchPortsTaken(
      `port(s) already in use: ${taken.map((p) => `${p.port} (${p.what})`).join(", ")} — ` +
        `is another bench running? \`ss -ltnp 'sport = :${taken[0]!.port}'\` shows what holds it.`,
    );
  }
}

/**
 * The bench's stack, fresh, once `check` (every port of the bench by default) is free.
 *
 * @example const stack = await startBenchStack({ signal: stopRequests().signal });
 */
export async function startBenchStack(
  options: Partial<StackOptions> & Pick<StackOptions, "signal">,
  check = BENCH_PORTS,
): Promise<Stack> {
  await checkBenchPorts(check);
  return await startStack({
    ports: PORTS,
    dataDir: ".local/bench",
    fresh: true,
    quiet: true,
    // One database unless asked, whatever DB_NODES a shell exports.
    dbNodes: 1,
    ...options,
  });
}
