// Where each stack that runs beside a developer's `bun run local` listens, in one
// table: the system tests', the launcher tests', compose's, the bench's. Every port
// lies outside Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range),
// where a busy machine's outgoing connections take their local ports: one there could
// hold a port of ours for a moment, and MariaDB would fail to bind.
import { DEFAULT_SERVERS, type Servers } from "./config.ts";
import { type PortName, type Ports, resolvePorts } from "./ports.ts";

/** Linux's default ephemeral port range. */
export const EPHEMERAL_PORTS = { low: 32768, high: 60999 } as const;

/**
 * Each stack by name: the design's ports + `offset`, or `base` + a port's last three
 * digits (the bench's: above the ephemeral range, where no one offset of 3306 … 8404 fits).
 */
export const PORT_PLAN = {
  /** `bun run compose:standin`: a person's compose stack on the stand-ins (http://127.0.0.1:9080/). */
  standin: { offset: 1000 },
  /** tests/launcher/launcher.test.ts: `bun run local` as a user runs it. */
  launcher: { offset: 6000 },
  /** tests/system/names.test.ts: its own `bun run local`. */
  names: { offset: 7000 },
  /** tests/setup.ts: the system tests' stack (TEST_PORT_OFFSET moves it). */
  system: { offset: 10000 },
  /** tests/docker/stack.ts: the compose pass's stack. */
  compose: { offset: 12000 },
  /**
   * tests/swarm/: deploy/stack.yaml on a one-node swarm (only its proxy's port: 21080), and
   * the registry its several nodes pull from (18000; their proxy is on a node's own address).
   */
  swarm: { offset: 13000 },
  /** tests/docker/galera.test.ts: compose.ha.yaml's stack, beside the compose pass's. */
  composeGalera: { offset: 14000 },
  /** tests/launcher/interrupt.test.ts: `bun run local` stopped mid-start. */
  interrupt: { offset: 20000 },
  /** tests/launcher/servers.test.ts: three of each tier (SERVERS_TEST_PORT_OFFSET moves it). */
  servers: { offset: 23000 },
  /**
   * tests/launcher/replicas.test.ts: API_SERVERS=2 ADMIN_API_SERVERS=2, instances on
   * API_PORT + 10n (REPLICAS_TEST_PORT_OFFSET moves it).
   */
  replicas: { offset: 24000 },
  /** tests/launcher/galera.test.ts: DB_NODES=3, nodes on DB_PORT + 10n (GALERA_TEST_PORT_OFFSET moves it). */
  galera: { offset: 21000 },
  /** bench/src/stack.ts: the bench's stack (61080, …). */
  bench: { base: 61000 },
  /** bench/src/ceiling.ts: the ceiling's HAProxy and fixed-page servers (61180, …). */
  ceiling: { base: 61100 },
} as const satisfies Record<string, { offset: number } | { base: number }>;

/**
 * A stack's ports, as PORT_PLAN places them, for `servers` (the design's two of each
 * by default); `offset` moves a stack placed by offset elsewhere.
 *
 * @example plannedPorts("system").store // 18080
 */
export function plannedPorts(
  name: keyof typeof PORT_PLAN,
  servers: Servers = DEFAULT_SERVERS,
  offset?: number,
) {
  const place: { offset?: number; base?: number } = PORT_PLAN[name];
  const at = (port: number) =>
    place.base !== undefined ? place.base + (port % 1000) : port + (offset ?? place.offset!);
  const design = resolvePorts(undefined, {}, servers);
  return Object.fromEntries(
    (Object.entries(design) as [string, number][]).map(([k, p]) => [k, at(p)]),
  ) as Ports;
}

/**
 * The ports of `ports` that lie in the ephemeral range, with their names.
 *
 * @example inEphemeralRange(plannedPorts("system", { web: 9, admin: 9 }, 50000)).length // 11 … of them
 */
export const inEphemeralRange = (ports: Partial<Ports>) =>
  (Object.entries(ports) as [PortName, number][]).filter(([, p]) =>
    p >= EPHEMERAL_PORTS.low && p <= EPHEMERAL_PORTS.high
  );
