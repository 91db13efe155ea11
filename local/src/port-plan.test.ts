// One table places every stack that runs beside `bun run local`: none in the
// ephemeral range, none on another's ports.
import { describe, expect, test } from "bun:test";
import { MAX_API_SERVERS, MAX_SERVERS } from "./config.ts";
import { inEphemeralRange, plannedPorts, PORT_PLAN } from "./port-plan.ts";
import { PORT_DEFAULTS, type Ports, replicaPorts } from "./ports.ts";

const most = { web: MAX_SERVERS, admin: MAX_SERVERS };
/** A stack's ports with the most servers, and its APIs' most replicas (API_PORT + 10n). */
const everyPort = (ports: Ports) => [
  ...Object.values(ports) as number[],
  ...replicaPorts(ports, { api: MAX_API_SERVERS, adminApi: MAX_API_SERVERS }).map((r) => r.port),
];
const names = Object.keys(PORT_PLAN) as (keyof typeof PORT_PLAN)[];

describe("PORT_PLAN", () => {
  test("every stack's every port, with the most servers, lies outside 32768–60999 and below 65536", () => {
    for (const name of names) {
      const ports = everyPort(plannedPorts(name, most));
      expect(ports.filter((p) => inEphemeralRange({ api: p }).length), name).toEqual([]);
      for (const port of ports) expect(port).toBeLessThanOrEqual(65535);
    }
    expect(inEphemeralRange(plannedPorts("system", most, 50000)).length).toBeGreaterThan(0);
  });

  test("no two stacks (nor a developer's bun run local) share a port", () => {
    const owner = new Map<number, string>();
    for (const port of everyPort(plannedPorts("system", most, 0))) owner.set(port, "bun run local");
    for (const name of names) {
      for (const port of everyPort(plannedPorts(name, most))) {
        expect(owner.get(port), `${name}: ${port}`).toBeUndefined();
        owner.set(port, name);
      }
    }
  });

  test("the bench's are the design's last three digits above 61000, the ceiling's above 61100", () => {
    expect(plannedPorts("bench")).toMatchObject({ store: 61080, stats: 61404, db: 61306, web1: 61083 });
    expect(plannedPorts("ceiling")).toMatchObject({ store: 61180, stats: 61504, web1: 61183, web2: 61184 });
    expect(plannedPorts("system").store).toBe(PORT_DEFAULTS.store + 10000);
  });
});
