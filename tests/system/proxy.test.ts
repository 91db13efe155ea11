// HAProxy: the one proxy/haproxy.cfg is valid for the local stack and for
// compose, its stats page is on a port of its own, and every request reaches the
// apps with X-Forwarded-For and a unique request id.
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { haproxyEnv, REPO_ROOT } from "../../local/src/index.ts";
import { eventually, proxyStatus, stack, statsAuth } from "./stack.ts";
import { store } from "./http.ts";

const CFG = path.join(REPO_ROOT, "proxy/haproxy.cfg");

async function haproxyCheck(env: Record<string, string | undefined>) {
  const proc = Bun.spawn(["haproxy", "-c", "-f", CFG], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `${out}${err}` };
}

/** The app's log line (JSON) for one request id, once it is written. */
async function logLine(service: string, requestId: string) {
  let found: Record<string, unknown> | undefined;
  await eventually(() => {
    const line = stack().logs(service).find((l) => l.includes(requestId) && l.startsWith("{"));
    if (line) found = JSON.parse(line);
    return found !== undefined;
  }, 5000);
  return found!;
}

describe("proxy/haproxy.cfg", () => {
  test("haproxy -c accepts it with the local stack's environment", async () => {
    const { code, output } = await haproxyCheck({ PATH: process.env.PATH, ...haproxyEnv(stack().ports) });
    expect(output).toContain("Configuration file is valid");
    expect(code).toBe(0);
  });

  test("haproxy -c accepts it with compose's defaults (no variables set)", async () => {
    const { code, output } = await haproxyCheck({ PATH: process.env.PATH });
    expect(output).toContain("Configuration file is valid");
    expect(code).toBe(0);
  });

  test("names only web and admin servers: the APIs, database and cache are never behind it", async () => {
    const cfg = await Bun.file(CFG).text();
    // Lines for the local stack's web-1 … web-9 and admin-1 … admin-9, and compose's templates (web-, admin-).
    const servers = [...cfg.matchAll(/^\s*server(?:-template)?\s+(\S+)/gm)].map((m) => m[1]!);
    for (const name of servers) expect(name).toMatch(/^(web|admin)-\d*$/);
    expect(new Set(servers.map((n) => n.split("-")[0]))).toEqual(new Set(["web", "admin"]));
    for (const port of ["5002", "5003", "3306", "6379", "8079"]) expect(cfg).not.toContain(`:${port}`);
  });
});

describe("the stats page", () => {
  test("is served on its own port and shows both backends with their servers up", async () => {
    const res = await fetch(stack().urls.stats, { headers: statsAuth() });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Statistics Report");
    // Servers come up after two good checks ("UP 1/2" until then).
    for (
      const [backend, server] of [["web", "web-1"], ["web", "web-2"], ["admin", "admin-1"], [
        "admin",
        "admin-2",
      ]]
    ) {
      await eventually(async () => (await proxyStatus(backend!, server!)) === "UP", 10_000);
    }
  });

  test("is not on the public port", async () => {
    expect(new URL(stack().urls.stats).port).not.toBe(new URL(store()).port);
    for (const p of ["/", "/;csv", "/stats", "/haproxy?stats", "/metrics", "/admin/;csv"]) {
      const res = await fetch(`${store()}${p}`);
      const body = await res.text();
      expect(body).not.toContain("Statistics Report");
      expect(body).not.toContain("pxname,svname");
      expect(body).not.toContain("haproxy_process");
    }
  });
});

describe("headers passed on to the apps", () => {
  test("every response carries a request id, unique per request; a client's own id is replaced", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${store()}${i % 2 ? "/products/Tux" : "/admin/login"}`, {
        headers: { "X-Request-Id": "client-chosen" },
      });
      await res.arrayBuffer();
      const id = res.headers.get("x-request-id");
      expect(id).toBeTruthy();
      expect(id).not.toBe("client-chosen");
      ids.add(id!);
    }
    expect(ids.size).toBe(10);
  });

  test("the web server sees the request id and X-Forwarded-For, and passes the id on to the api", async () => {
    // A name no item has: never held, so asked of the api (a held item may be answered
    // from web's memory, with no call at all).
    const path = `/products/Nothing-${crypto.randomUUID().slice(0, 8)}`;
    const res = await fetch(`${store()}${path}`, { headers: { "X-Forwarded-For": "203.0.113.9" } });
    await res.arrayBuffer();
    const id = res.headers.get("x-request-id")!;
    const served = res.headers.get("x-served-by")!.match(/web-\d/)![0];
    const web = await logLine(served, id);
    expect(web.path).toBe(path);
    // HAProxy appends the address it saw to what the client sent.
    expect(web.forwarded_for).toBe("203.0.113.9, 127.0.0.1");
    // The check it started toward the api carries its id (a read that joins a check in
    // flight is answered by that check's id: docs/internals.md, The cache).
    const api = await logLine("api", id);
    expect(api.path).toBe("/items/check");
  });

  test("the admin server sees them too", async () => {
    const res = await fetch(`${store()}/admin/login`);
    await res.arrayBuffer();
    const id = res.headers.get("x-request-id")!;
    const served = res.headers.get("x-served-by")!.match(/admin-\d/)![0];
    const line = await logLine(served, id);
    expect(line.path).toBe("/admin/login");
    expect(line.forwarded_for).toBe("127.0.0.1");
  });

  test("HAProxy's own log line carries the same id", async () => {
    const res = await fetch(`${store()}/healthz`);
    await res.arrayBuffer();
    const id = res.headers.get("x-request-id")!;
    await eventually(() => stack().logs("proxy").some((l) => l.endsWith(`id=${id}`)), 5000);
  });

  test("a restarted proxy's log lines land after the earlier ones, none overwritten", async () => {
    const s = stack();
    const idOf = async () => {
      const res = await fetch(`${store()}/healthz`);
      await res.arrayBuffer();
      return res.headers.get("x-request-id")!;
    };
    const before = await idOf();
    await eventually(() => s.logs("proxy").some((l) => l.endsWith(`id=${before}`)), 5000);
    await s.restart("proxy");
    const after = await idOf();
    const file = path.join(s.logDir, "proxy.log");
    await eventually(async () => (await Bun.file(file).text()).includes(`id=${after}`), 5000);
    const text = await Bun.file(file).text();
    expect(text.indexOf(`id=${before}`)).toBeGreaterThan(-1);
    expect(text.indexOf(`id=${before}`)).toBeLessThan(text.indexOf(`id=${after}`));
    // The launcher's own line about the restart is there too.
    expect(text.slice(text.indexOf(`id=${before}`))).toContain("[launcher] healthy after");
  });
});
