// haproxy.cfg is one file for compose and the local stack: HAProxy itself must
// accept it with the environment compose gives the proxy service.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requestIdKeyMap } from "../../lib/src/request-id.ts";
import { haproxyEnv, MAX_SERVERS, resolvePorts, serverNames } from "../../local/src/index.ts";
import { haproxyCheck, haproxyServers, loadCompose } from "./support.ts";

// Only what compose sets (plus PATH to find haproxy): nothing leaks in from this shell.
const check = (env: Record<string, string>) => haproxyCheck(env);

describe("haproxy.cfg under compose", () => {
  // The map file compose's REQUEST_ID_KEY_MAP names is in the secrets volume; here,
  // one written the same way (lib/src/secrets/secrets.ts), which HAProxy loads while checking.
  const dir = mkdtempSync(path.join(tmpdir(), "haproxy-key-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keyMap = path.join(dir, "request_id_key.map");
  writeFileSync(keyMap, requestIdKeyMap("a-request-id-key-of-at-least-32-characters"));
  const composeEnv = loadCompose().services.proxy!.environment ?? {};
  const proxyEnv = { ...composeEnv, REQUEST_ID_KEY_MAP: keyMap };

  // Where compose's REQUEST_ID_KEY_MAP points (the secrets volume's file) is compose.test.ts's.
  test("without the key's map file the proxy refuses to start (no silent unsigned ids)", () => {
    const r = check({ ...proxyEnv, REQUEST_ID_KEY_MAP: path.join(dir, "missing.map") });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toContain("missing.map");
  });

  test("haproxy -c accepts it with the proxy service's environment", () => {
    const r = check(proxyEnv);
    expect({ exit: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }).toEqual({
      exit: 0,
      out: expect.any(String),
    });
  });

  test("the check is not vacuous: a bind it cannot parse is refused", () => {
    expect(check({ ...proxyEnv, STORE_BIND: "*:notaport" }).exitCode).not.toBe(0);
  });

  test("with compose's environment, the servers are every replica of the web and admin services (Docker's DNS), in 9 slots each", () => {
    expect(haproxyServers(proxyEnv).map((s) => `${s.name}=${s.address}×${s.slots}`)).toEqual([
      "web-*=web:8083×9",
      "admin-*=admin:8081×9",
    ]);
  });

  test("with the local stack's environment, a server line for each server it runs, and none for the others", () => {
    const ports = resolvePorts(undefined, {}, { web: 3, admin: 1 });
    expect(
      haproxyServers(haproxyEnv(ports, undefined, { web: 3, admin: 1 })).map((s) => `${s.name}=${s.address}`),
    ).toEqual([
      "web-1=127.0.0.1:8083",
      "web-2=127.0.0.1:8084",
      "web-3=127.0.0.1:8085",
      "admin-1=127.0.0.1:8081",
    ]);
    const nine = { web: MAX_SERVERS, admin: MAX_SERVERS };
    const all = haproxyServers(haproxyEnv(resolvePorts(undefined, {}, nine), undefined, nine)).map((s) =>
      s.name
    );
    expect(all).toEqual([...serverNames("web", MAX_SERVERS), ...serverNames("admin", MAX_SERVERS)]);
  });

  test("haproxy itself accepts each way: compose's, and the local stack's with 1 and with 9 servers", () => {
    for (const servers of [{ web: 1, admin: 1 }, { web: MAX_SERVERS, admin: MAX_SERVERS }]) {
      const r = check(
        haproxyEnv(
          resolvePorts(undefined, {}, servers),
          { user: "stats", password: "stats-password" },
          servers,
        ),
      );
      expect({ servers, exit: r.exitCode, out: r.stderr.toString() }).toEqual({
        servers,
        exit: 0,
        out: expect.any(String),
      });
    }
  });
});
