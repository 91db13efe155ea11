// API_SERVERS / ADMIN_API_SERVERS: how they are asked for, and the services and
// addresses the launcher makes of them (nothing started).
import { describe, expect, test } from "bun:test";
import { testContext } from "@bazaar/testutil/launcher.ts";
import { resolveApiReplicas } from "./config.ts";
import { internalProxyEnv, PORT_DEFAULTS, replicaPorts } from "./ports.ts";
import { buildServices, serviceNames } from "./services.ts";

const one = { web: 1, admin: 1 };

describe("resolveApiReplicas", () => {
  test("one each by default; two each with DB_NODES=3; the variables and options win", () => {
    expect(resolveApiReplicas(undefined, {})).toEqual({ api: 1, adminApi: 1 });
    expect(resolveApiReplicas(undefined, {}, 3)).toEqual({ api: 2, adminApi: 2 });
    expect(resolveApiReplicas(undefined, { API_SERVERS: "2", ADMIN_API_SERVERS: "" })).toEqual({
      api: 2,
      adminApi: 1,
    });
    expect(resolveApiReplicas({ adminApi: 3 }, { API_SERVERS: "1" }, 3)).toEqual({ api: 1, adminApi: 3 });
  });

  test("anything but a whole number from 1 to 4 is refused, naming the variable", () => {
    for (const bad of ["0", "5", "1.5", "two"]) {
      expect(() => resolveApiReplicas(undefined, { ADMIN_API_SERVERS: bad })).toThrow(
        `ADMIN_API_SERVERS: a whole number from 1 to 4, not ${bad}`,
      );
    }
  });
});

describe("the services of a stack with replicas", () => {
  test("one each: exactly today's services, no internal proxy", () => {
    expect(serviceNames(one, 1, undefined, { api: 1, adminApi: 1 })).toEqual(serviceNames(one));
    expect(serviceNames(one)).not.toContain("internal-proxy");
  });

  test("two each: api-1, api-2, admin-api-1, admin-api-2, then the internal proxy, then web and admin", () => {
    const names = serviceNames(one, 1, undefined, { api: 2, adminApi: 2 });
    expect(names.filter((n) => /api|internal/.test(n))).toEqual([
      "api-1",
      "api-2",
      "admin-api-1",
      "admin-api-2",
      "internal-proxy",
    ]);
    expect(names.indexOf("internal-proxy")).toBeLessThan(names.indexOf("web-1"));
    expect(names).not.toContain("api");
  });

  test("each instance on its port (API_PORT + 10n), draining on SIGTERM; web and admin call the proxy's address, as before", () => {
    const ctx = testContext({ servers: one, replicas: { api: 2, adminApi: 2 }, drainMs: 1500 });
    const env = (name: string) => buildServices(ctx).find((s) => s.name === name)!.command().env;
    expect([env("api-1").PORT, env("api-2").PORT, env("admin-api-1").PORT, env("admin-api-2").PORT]).toEqual([
      "5013",
      "5023",
      "5012",
      "5022",
    ]);
    expect([env("api-2").INSTANCE_NAME, env("api-2").SHUTDOWN_DRAIN_MS]).toEqual(["api-2", "1500"]);
    expect(env("web-1").API_URL).toBe("http://127.0.0.1:5003");
    expect(env("admin-1").ADMIN_API_URL).toBe("http://127.0.0.1:5002");
    expect(env("internal-proxy")).toMatchObject({
      ONLY_BOUND_FRONTENDS: "1",
      API_BIND: "127.0.0.1:5003",
      API1_ADDR: "127.0.0.1:5013",
      API2_ADDR: "127.0.0.1:5023",
      ADMIN_API_BIND: "127.0.0.1:5002",
      ADMIN_API2_ADDR: "127.0.0.1:5022",
    });
    // One api alone drains not at all (nothing in front of it to move away), as before.
    expect(buildServices(testContext({ servers: one })).find((s) => s.name === "api")!.command().env)
      .toMatchObject({ PORT: "5003", SHUTDOWN_DRAIN_MS: "0" });
  });

  test("replicas of one API only: the proxy fronts that one; the other stays direct", () => {
    const env = internalProxyEnv(PORT_DEFAULTS, { api: 1, adminApi: 2 });
    expect(env.API_BIND).toBeUndefined();
    expect(env.ADMIN_API_BIND).toBe("127.0.0.1:5002");
    expect(replicaPorts(PORT_DEFAULTS, { api: 1, adminApi: 2 })).toEqual([
      { name: "admin-api-1", port: 5012 },
      { name: "admin-api-2", port: 5022 },
    ]);
  });

  test("no server address or bind left in the shell reaches the internal proxy", () => {
    process.env.API3_ADDR = "127.0.0.1:1";
    process.env.ADMIN_API_BIND = "127.0.0.1:2";
    try {
      const env = buildServices(testContext({ servers: one, replicas: { api: 2, adminApi: 1 } }))
        .find((s) => s.name === "internal-proxy")!.command().env;
      expect([env.API3_ADDR, env.ADMIN_API_BIND]).toEqual([undefined, undefined]);
    } finally {
      delete process.env.API3_ADDR;
      delete process.env.ADMIN_API_BIND;
    }
  });
});
