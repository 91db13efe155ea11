// The networks as compose.yaml claims them, checked from inside the containers (a
// throwaway container sharing each one's network namespace): each tier reaches what
// it calls and nothing else, and the internal networks have no way out. Only the
// stack's own names and addresses are ever tried.
import { describe, expect, test } from "bun:test";
import { addresses, connectFrom, readInNetns, useComposeStack } from "./fixture.ts";
import { sh } from "./engine.ts";
import { stack } from "./fixture.ts";

useComposeStack();

/** host:port for every address `service` has (on each of its networks). */
const everyAddress = (service: string, port: number) => addresses(service).map((a) => `${a.ip}:${port}`);

describe("who reaches whom", () => {
  test("web-1 reaches api (by name), and none of db, the cache, redis or admin-api by any of their addresses", () => {
    const [api] = connectFrom("web-1", ["api:5003"]);
    expect(api).toEqual({ target: "api:5003", ok: true });
    const forbidden = [...everyAddress("db", 3306), ...everyAddress("cache", 80), ...everyAddress("redis", 6379), ...everyAddress("admin-api", 5002)];
    expect(connectFrom("web-1", forbidden, 1).filter((p) => p.ok)).toEqual([]);
  });

  test("admin-1 reaches admin-api, and neither api nor db", () => {
    expect(connectFrom("admin-1", ["admin-api:5002"])).toEqual([{ target: "admin-api:5002", ok: true }]);
    expect(connectFrom("admin-1", [...everyAddress("api", 5003), ...everyAddress("db", 3306)], 1).filter((p) => p.ok)).toEqual([]);
  });

  test("api reaches db and the cache, and cannot reach admin-api, redis or the web tier", () => {
    expect(connectFrom("api", ["db:3306", "cache:80"])).toEqual([{ target: "db:3306", ok: true }, { target: "cache:80", ok: true }]);
    const forbidden = [...everyAddress("admin-api", 5002), ...everyAddress("redis", 6379), ...everyAddress("web-1", 8083), ...everyAddress("proxy", 8080)];
    expect(connectFrom("api", forbidden, 1).filter((p) => p.ok)).toEqual([]);
  });

  test("admin-api cannot reach api", () => {
    expect(connectFrom("admin-api", everyAddress("api", 5003), 1).filter((p) => p.ok)).toEqual([]);
  });
});

describe("the internal networks have no way out", () => {
  /** The IPv4 routes of a namespace: destination, mask (as CIDR), gateway. */
  const routes = (service: string) =>
    readInNetns(service, "/proc/net/route").trim().split("\n").slice(1).map((l) => {
      const [, dest, gw, , , , , mask] = l.trim().split(/\s+/);
      const ip = (hex: string) => (hex.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)).join(".");
      const bits = (parseInt(mask!, 16) >>> 0).toString(2).replace(/0/g, "").length;
      return { cidr: `${ip(dest!)}/${bits}`, gateway: ip(gw!) };
    });

  /** The subnets of the stack's networks a service is on. */
  const subnets = (service: string) =>
    addresses(service).map((a) => {
      const net = JSON.parse(sh(["docker", "network", "inspect", a.network]).out)[0] as { IPAM: { Config: { Subnet: string }[] }; Internal: boolean };
      return { network: a.network, internal: net.Internal, subnet: net.IPAM.Config[0]!.Subnet };
    });

  for (const service of ["api", "admin-api", "db", "cache", "redis"]) {
    test(`${service}: only internal networks, no default route, a route only to each of its own subnets`, () => {
      const nets = subnets(service);
      expect(nets.every((n) => n.internal)).toBe(true);
      const r = routes(service);
      expect(r.filter((x) => x.cidr === "0.0.0.0/0")).toEqual([]);
      expect(r.map((x) => x.cidr).sort()).toEqual(nets.map((n) => n.subnet).sort());
      expect(r.every((x) => x.gateway === "0.0.0.0")).toBe(true);
    });
  }

  test("the web servers' only way out is the front network, the proxy's only network", () => {
    const proxy = subnets("proxy");
    expect(proxy.map((n) => ({ network: n.network.replace(`${stack.project}_`, ""), internal: n.internal }))).toEqual([{ network: "front", internal: false }]);
    const web = subnets("web-1");
    expect(web.filter((n) => !n.internal).map((n) => n.network.replace(`${stack.project}_`, ""))).toEqual(["front"]);
  });
});
