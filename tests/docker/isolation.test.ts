// The networks as compose.yaml claims them, checked from inside the containers (a
// throwaway container sharing each one's network namespace): each tier reaches what
// it calls and nothing else, and the internal networks have no way out. Only the
// stack's own names and addresses are ever tried.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { addresses, connectFrom, readInNetns, STEP_TIMEOUT, useComposeStack } from "./fixture.ts";
import { sh } from "./engine.ts";
import { stack } from "./fixture.ts";

// Per file (Bun applies it to the file that calls it).
setDefaultTimeout(STEP_TIMEOUT);
useComposeStack();

/** host:port for every address `service` has (on each of its networks). */
const everyAddress = (service: string, port: number) => addresses(service).map((a) => `${a.ip}:${port}`);

describe("who reaches whom", () => {
  test("web-1 reaches api (by name), and none of db, the cache, redis or admin-api by any of their addresses", () => {
    const [api] = connectFrom("web-1", ["api:5003"]);
    expect(api).toEqual({ target: "api:5003", ok: true });
    const forbidden = [
      ...everyAddress("db", 3306),
      ...everyAddress("cache", 80),
      ...everyAddress("redis", 6379),
      ...everyAddress("admin-api", 5002),
    ];
    expect(connectFrom("web-1", forbidden, 1).filter((p) => p.ok)).toEqual([]);
  });

  test("admin-1 reaches admin-api, and neither api nor db", () => {
    expect(connectFrom("admin-1", ["admin-api:5002"])).toEqual([{ target: "admin-api:5002", ok: true }]);
    expect(
      connectFrom("admin-1", [...everyAddress("api", 5003), ...everyAddress("db", 3306)], 1).filter((p) =>
        p.ok
      ),
    ).toEqual([]);
  });

  test("api reaches db and the cache, and cannot reach admin-api, redis or the proxy", () => {
    expect(connectFrom("api", ["db:3306", "cache:80"])).toEqual([{ target: "db:3306", ok: true }, {
      target: "cache:80",
      ok: true,
    }]);
    const forbidden = [
      ...everyAddress("admin-api", 5002),
      ...everyAddress("redis", 6379),
      ...everyAddress("proxy", 8080),
    ];
    expect(connectFrom("api", forbidden, 1).filter((p) => p.ok)).toEqual([]);
  });

  test("admin-api cannot reach api", () => {
    expect(connectFrom("admin-api", everyAddress("api", 5003), 1).filter((p) => p.ok)).toEqual([]);
  });
});

describe("the internal networks have no way out", () => {
  type Net = { network: string; internal: boolean; subnet: string; gateway: string; bridge: string };
  /** The stack's networks a service is on, as the engine made them. */
  const networks = (service: string): Net[] =>
    addresses(service).map((a) => {
      const net = JSON.parse(sh(["docker", "network", "inspect", a.network]).out)[0] as {
        Id: string;
        IPAM: { Config: { Subnet: string; Gateway: string }[] };
        Internal: boolean;
      };
      return {
        network: a.network,
        internal: net.Internal,
        subnet: net.IPAM.Config[0]!.Subnet,
        gateway: net.IPAM.Config[0]!.Gateway,
        bridge: `br-${net.Id.slice(0, 12)}`,
      };
    });

  /** The IPv4 routes of a namespace (/proc/net/route): destination as CIDR, gateway. */
  const routes = (service: string) =>
    readInNetns(service, "/proc/net/route").trim().split("\n").slice(1).map((l) => {
      const [, dest, gw, , , , , mask] = l.trim().split(/\s+/);
      const ip = (hex: string) => (hex.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)).join(".");
      const bits = (parseInt(mask!, 16) >>> 0).toString(2).replace(/0/g, "").length;
      return { cidr: `${ip(dest!)}/${bits}`, gateway: ip(gw!) };
    });

  // The host end of a network (its gateway address, on this machine) with the proxy's
  // published port, which listens on every host address: the one place outside the
  // stack's containers these probes go, and only from the stack's own networks.
  const published = () => stack.ports.http;

  test("control: web-1 (on front) reaches the host's published port through the front network's gateway", () => {
    const front = networks("web-1").find((n) => !n.internal)!;
    expect(connectFrom("web-1", [`${front.gateway}:${published()}`])).toEqual([{
      target: `${front.gateway}:${published()}`,
      ok: true,
    }]);
  });

  for (const service of ["api", "admin-api", "db", "cache", "redis"]) {
    test(`${service}: only internal networks, routes only through them, and not even the host answers`, () => {
      const nets = networks(service);
      expect(nets.every((n) => n.internal)).toBe(true);
      // The engine still gives a default route (via an internal network's gateway);
      // every route leads into one of the service's own networks.
      for (const r of routes(service)) {
        const own = nets.some((n) => n.subnet === r.cidr || n.gateway === r.gateway);
        expect({ route: r, own }).toEqual({ route: r, own: true });
      }
      // What closes the way out is the engine's firewall: every gateway, and so the
      // host and whatever lies beyond it, is unreachable.
      const tries = nets.map((n) => `${n.gateway}:${published()}`);
      expect(connectFrom(service, tries, 1).filter((p) => p.ok)).toEqual([]);
    });
  }

  test("the host firewall drops whatever leaves an internal network's bridge for elsewhere", () => {
    const rules = sh(["iptables", "-S"], { allowFail: true }).out;
    for (const n of networks("api")) expect(rules).toContain(`! -d ${n.subnet} -i ${n.bridge} -j DROP`);
  });

  test("the proxy is on front only; the web servers' only network with a way out is front", () => {
    expect(
      networks("proxy").map((n) => ({
        network: n.network.replace(`${stack.project}_`, ""),
        internal: n.internal,
      })),
    ).toEqual([{ network: "front", internal: false }]);
    expect(
      networks("web-1").filter((n) => !n.internal).map((n) => n.network.replace(`${stack.project}_`, "")),
    ).toEqual(["front"]);
  });
});
