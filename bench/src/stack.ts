// The bench's own local stack (data in .local/bench, fresh each time) and the
// ceiling's HAProxy and fixed-page servers beside it, on ports of their own
// (PORT_PLAN.bench and .ceiling: 61xxx, above Linux's ephemeral range and clear of
// every test stack and of compose's). All of them are checked free before anything
// starts; one taken is named.
import { readFileSync } from "node:fs";
import {
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

/** Every port the bench listens on, with what listens there. */
export const BENCH_PORTS: readonly { port: number; what: string }[] = [
  ...Object.entries(PORTS).map(([k, port]) => ({ port, what: `the bench stack's ${k}` })),
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

export async function startBenchStack(
  options: Partial<StackOptions> & Pick<StackOptions, "signal">,
): Promise<Stack> {
  await checkBenchPorts();
  return await startStack({
    ports: PORTS,
    dataDir: ".local/bench",
    fresh: true,
    quiet: true,
    ...options,
  });
}
