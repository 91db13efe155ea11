// As many web and admin servers as asked for (WEB_SERVERS, ADMIN_SERVERS): their
// count, their ports, their services and the proxy's server lines.
import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_SERVERS, resolveServers } from "./config.ts";
import { haproxyEnv, PORT_DEFAULTS, portNames, resolvePorts } from "./ports.ts";
import { buildServices, serviceNames } from "./services.ts";
import { testContext } from "@bazaar/testutil/launcher.ts";

describe("resolveServers", () => {
  test("two of each by default; WEB_SERVERS / ADMIN_SERVERS from the environment; options win", () => {
    expect(resolveServers(undefined, {})).toEqual({ web: 2, admin: 2 });
    expect(resolveServers(undefined, { WEB_SERVERS: "3", ADMIN_SERVERS: "" })).toEqual({ web: 3, admin: 2 });
    expect(resolveServers({ web: 1 }, { WEB_SERVERS: "3", ADMIN_SERVERS: "9" })).toEqual({
      web: 1,
      admin: 9,
    });
  });

  test("anything but a whole number from 1 to 9 is refused, naming the variable", () => {
    for (const bad of ["0", "10", "2.5", "three", "-1"]) {
      expect(() => resolveServers(undefined, { WEB_SERVERS: bad })).toThrow(
        `WEB_SERVERS: a whole number from 1 to 9, not ${bad}`,
      );
    }
    expect(() => resolveServers({ admin: 12 }, {})).toThrow(
      "ADMIN_SERVERS: a whole number from 1 to 9, not 12",
    );
  });
});

describe("the ports of servers beyond the second", () => {
  test("web-n on WEB1_PORT + n - 1 (8085 …), admin-n on ADMIN1_PORT + n + 9 (8093 …); none unless asked for", () => {
    expect(resolvePorts(undefined, {})).toEqual(PORT_DEFAULTS);
    const p = resolvePorts(undefined, {}, { web: 4, admin: 3 });
    expect([p.web1, p.web2, p.web3, p.web4, p.web5]).toEqual([8083, 8084, 8085, 8086, undefined]);
    expect([p.admin1, p.admin2, p.admin3, p.admin4]).toEqual([8081, 8082, 8093, undefined]);
    const nine = resolvePorts(undefined, {}, { web: 9, admin: 9 });
    expect([nine.web9, nine.admin9]).toEqual([8091, 8099]);
  });

  test("they follow WEB1_PORT / ADMIN1_PORT (a stack on other ports keeps its own), and WEB3_PORT … set one each", () => {
    const p = resolvePorts({ web1: 18083, admin1: 18081 }, { WEB3_PORT: "9999" }, { web: 4, admin: 3 });
    expect([p.web3, p.web4, p.admin3]).toEqual([9999, 18086, 18093]);
  });

  test("a clash with another port is refused naming both variables", () => {
    expect(() => resolvePorts(undefined, { WEB3_PORT: "8081" }, { web: 3, admin: 2 })).toThrow(
      /WEB3_PORT and ADMIN1_PORT are both 8081|ADMIN1_PORT and WEB3_PORT are both 8081/,
    );
    expect(() => resolvePorts(undefined, { WEB3_PORT: "abc" }, { web: 3, admin: 2 })).toThrow(
      "WEB3_PORT: not a port: abc",
    );
  });

  test("only the servers the stack runs count as its ports (the launcher checks those are free)", () => {
    const p = resolvePorts(undefined, {}, { web: 1, admin: 3 });
    const used = portNames({ web: 1, admin: 3 });
    expect(used).toContain("web1");
    expect(used).not.toContain("web2");
    expect(used).toEqual(expect.arrayContaining(["admin1", "admin2", "admin3"]));
    // web-2's port is still resolved (and checked against the others), just not used.
    expect(p.web2).toBe(PORT_DEFAULTS.web2);
  });
});

const ctx = (servers = DEFAULT_SERVERS) => testContext({ servers });

describe("the services of a stack with three web servers and one admin server", () => {
  const stray = process.env.WEB5_ADDR;
  afterEach(() => (stray === undefined ? delete process.env.WEB5_ADDR : (process.env.WEB5_ADDR = stray)));

  test("web-1 … web-3 and admin-1 start together, each on its own port, as its instance", () => {
    const defs = buildServices(ctx({ web: 3, admin: 1 }));
    expect(defs.map((d) => d.name)).toEqual(serviceNames({ web: 3, admin: 1 }));
    expect(serviceNames({ web: 3, admin: 1 })).toEqual([
      "db",
      "redis",
      "cache",
      "api",
      "admin-api",
      "web-1",
      "web-2",
      "web-3",
      "admin-1",
      "proxy",
    ]);
    const servers = defs.filter((d) => /^(web|admin)-\d$/.test(d.name));
    // All of them need only what is up before them: they start together.
    expect(new Set(servers.map((d) => d.needs.join()))).toEqual(new Set(["api", "admin-api"]));
    expect(servers.map((d) => [d.name, d.command().env.PORT, d.command().env.INSTANCE_NAME])).toEqual([
      ["web-1", "8083", "web-1"],
      ["web-2", "8084", "web-2"],
      ["web-3", "8085", "web-3"],
      ["admin-1", "8081", "admin-1"],
    ]);
  });

  test("the proxy gets an address for each server it runs and none other, even one left in the shell", () => {
    process.env.WEB5_ADDR = "127.0.0.1:1";
    const env = buildServices(ctx({ web: 3, admin: 1 })).find((d) => d.name === "proxy")!.command().env;
    const addrs = Object.keys(env).filter((k) => /^(WEB|ADMIN)\d+_ADDR$/.test(k)).sort();
    expect(addrs).toEqual(["ADMIN1_ADDR", "WEB1_ADDR", "WEB2_ADDR", "WEB3_ADDR"]);
    expect(env.WEB3_ADDR).toBe("127.0.0.1:8085");
  });

  test("haproxyEnv without a count is the design's two of each", () => {
    const env = haproxyEnv(PORT_DEFAULTS);
    expect(Object.keys(env).filter((k) => k.endsWith("_ADDR")).sort()).toEqual([
      "ADMIN1_ADDR",
      "ADMIN2_ADDR",
      "WEB1_ADDR",
      "WEB2_ADDR",
    ]);
  });
});
