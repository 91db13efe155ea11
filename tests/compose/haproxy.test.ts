// haproxy.cfg is one file for compose and the local stack: HAProxy itself must
// accept it with the environment compose gives the proxy service.
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { haproxyServers, loadCompose, ROOT } from "./support.ts";

const check = (env: Record<string, string>) =>
  Bun.spawnSync(["haproxy", "-c", "-f", path.join(ROOT, "proxy/haproxy.cfg")], {
    // Only what compose sets (plus PATH to find haproxy): nothing leaks in from this shell.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });

describe("haproxy.cfg under compose", () => {
  const proxyEnv = loadCompose().services.proxy!.environment ?? {};

  test("haproxy -c accepts it with the proxy service's environment", () => {
    const r = check(proxyEnv);
    expect({ exit: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }).toEqual({ exit: 0, out: expect.any(String) });
  });

  test("the check is not vacuous: a bind it cannot parse is refused", () => {
    expect(check({ ...proxyEnv, STORE_BIND: "*:notaport" }).exitCode).not.toBe(0);
  });

  test("with compose's environment, the servers are the compose services web-1/2 and admin-1/2", () => {
    expect(haproxyServers(proxyEnv).map((s) => `${s.name}=${s.address}`)).toEqual([
      "web-1=web-1:8083", "web-2=web-2:8084", "admin-1=admin-1:8081", "admin-2=admin-2:8082",
    ]);
  });
});
