// compose.replicas.yaml merged over compose.yaml: the APIs' replicas behind a proxy
// each, and proxy/internal.cfg as HAProxy reads it with the environment
// compose gives that proxy — and with the local launcher's, the same file.
import { describe, expect, test } from "bun:test";
import { internalProxyEnv, MAX_API_SERVERS, PORT_DEFAULTS } from "../../local/src/index.ts";
import { haproxyActiveLines, haproxyCheck, haproxyServers, loadCompose, read, shared } from "./support.ts";

const FILES = ["compose.yaml", "compose.replicas.yaml"];
const compose = loadCompose({}, FILES);
const apiProxyEnv = compose.services["api-proxy"]!.environment ?? {};
const adminApiProxyEnv = compose.services["admin-api-proxy"]!.environment ?? {};
const cfg = read("proxy/internal.cfg");

const check = (env: Record<string, string>) => haproxyCheck(env, "proxy/internal.cfg");

describe("compose.replicas.yaml over compose.yaml", () => {
  test("two api and two admin-api replicas unless API_SERVERS / ADMIN_API_SERVERS say, as many as the cfg has slots for", () => {
    expect([compose.services.api!.deploy?.replicas, compose.services["admin-api"]!.deploy?.replicas]).toEqual(
      [2, 2],
    );
    const four = loadCompose({ API_SERVERS: "4", ADMIN_API_SERVERS: "3" }, FILES);
    expect([four.services.api!.deploy?.replicas, four.services["admin-api"]!.deploy?.replicas]).toEqual([
      4,
      3,
    ]);
    // Without the override, one of each: compose.yaml unchanged.
    expect(loadCompose().services.api!.deploy?.replicas).toBeUndefined();
  });

  test("web and admin each call their API's proxy, on a network each shares with it; neither reaches the other's; all internal, nothing published", () => {
    expect(compose.services.web!.environment!.API_URL).toBe("http://api-proxy:5003");
    expect(compose.services.admin!.environment!.ADMIN_API_URL).toBe("http://admin-api-proxy:5002");
    const pairs = [["web", "api-proxy"], ["admin", "admin-api-proxy"], ["api-proxy", "api"], [
      "admin-api-proxy",
      "admin-api",
    ]] as const;
    for (const [a, b] of pairs) {
      expect({ a, b, shared: shared(compose, a, b).length > 0 }).toEqual({ a, b, shared: true });
    }
    // Each tier sees only the tier it calls: no way from web to admin-api, nor admin to api.
    for (const [a, b] of [["web", "admin-api-proxy"], ["admin", "api-proxy"]] as const) {
      expect({ a, b, shared: shared(compose, a, b) }).toEqual({ a, b, shared: [] });
    }
    for (const name of ["api-proxy", "admin-api-proxy"]) {
      const proxy = compose.services[name]!;
      expect(proxy.ports ?? []).toEqual([]);
      for (const n of proxy.networks!) {
        expect({ name, n, internal: compose.networks[n]?.internal }).toEqual({ name, n, internal: true });
      }
    }
    // The rest of each service is compose.yaml's (merged, not replaced).
    expect(compose.services.web!.environment!.API_TOKEN_FILE).toBe("/run/bazaar-secrets/api_token");
    expect(Object.keys(compose.services.web!.depends_on!)).toEqual(["secrets", "api", "api-proxy"]);
  });

  test("a replica drains longer than two failed checks take, so a stop costs no request", () => {
    for (const name of ["api", "admin-api"]) {
      expect(Number(compose.services[name]!.environment!.SHUTDOWN_DRAIN_MS)).toBeGreaterThanOrEqual(2000);
    }
  });
});

describe("proxy/internal.cfg", () => {
  test("haproxy -c accepts it with each proxy's compose environment", () => {
    for (const env of [apiProxyEnv, adminApiProxyEnv]) {
      const r = check(env);
      // Its output is what to read when it fails.
      expect([r.exitCode, r.stderr.toString()]).toEqual([0, expect.any(String)]);
    }
  });

  test("under compose: each proxy only its API's frontend, slots filled from that API's service name on its port", () => {
    const frontends = (env: Record<string, string>) =>
      haproxyActiveLines(env, cfg).map((l) => l.trim()).filter((l) => l.startsWith("frontend"));
    expect(frontends(apiProxyEnv)).toEqual(["frontend api"]);
    expect(frontends(adminApiProxyEnv)).toEqual(["frontend admin_api"]);
    expect(haproxyServers(apiProxyEnv, cfg).map((s) => `${s.name}=${s.address}×${s.slots}`)).toEqual([
      `api-*=api:${compose.services.api!.environment!.PORT}×${MAX_API_SERVERS}`,
    ]);
    expect(haproxyServers(adminApiProxyEnv, cfg).map((s) => `${s.name}=${s.address}×${s.slots}`)).toEqual([
      `admin-api-*=admin-api:${compose.services["admin-api"]!.environment!.PORT}×${MAX_API_SERVERS}`,
    ]);
  });

  test("locally: a frontend only for an API run as replicas, a server line per instance", () => {
    const env = internalProxyEnv(PORT_DEFAULTS, { api: 2, adminApi: 1 });
    expect(check(env).exitCode).toBe(0);
    const lines = haproxyActiveLines(env, cfg).map((l) => l.trim());
    expect(lines.filter((l) => l.startsWith("frontend"))).toEqual(["frontend api"]);
    expect(haproxyServers(env, cfg).map((s) => `${s.name}=${s.address}`)).toEqual([
      "api-1=127.0.0.1:5013",
      "api-2=127.0.0.1:5023",
    ]);
  });

  test("the check is not vacuous: a bind it cannot parse is refused", () => {
    expect(check({ ...apiProxyEnv, API_BIND: "*:notaport" }).exitCode).not.toBe(0);
  });
});
