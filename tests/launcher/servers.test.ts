// WEB_SERVERS=3 and ADMIN_SERVERS=3 (README, "WEB_SERVERS"): a stack of its own (ports
// PORT_PLAN.servers, data in .local/test-servers) with three of each, behind the same
// proxy/haproxy.cfg. The proxy takes every one in turn, and one that leaves (SIGTERM
// or SIGKILL) or comes back under load costs no request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  plannedPorts,
  PORT_PLAN,
  type ServiceName,
  type Stack,
  startStack,
  stopOnSignals,
  stopRequests,
} from "../../local/src/index.ts";

const OFFSET = Number(process.env.SERVERS_TEST_PORT_OFFSET ?? PORT_PLAN.servers.offset);
// Only the design's ports are given: web-3 and admin-3 follow the launcher's rule.
const ports = plannedPorts("servers", undefined, OFFSET);
const WEBS: ServiceName[] = ["web-1", "web-2", "web-3"];
const ADMINS: ServiceName[] = ["admin-1", "admin-2", "admin-3"];

let stack: Stack;

beforeAll(async () => {
  // Ctrl-C or SIGTERM stops it, also mid-start, and ends the run (130, 143).
  const requests = stopRequests();
  const starting = startStack({
    signal: requests.signal,
    dataDir: ".local/test-servers",
    fresh: true,
    quiet: true,
    ports,
    env: { ...process.env, STORE_DATA_DIR: undefined, WEB_SERVERS: "3", ADMIN_SERVERS: "3" },
    drainMs: 1500,
  });
  stopOnSignals(requests, starting);
  stack = await starting;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** The instance that answered, from X-Served-By ("<host> / web-3"). */
const servedBy = (res: Response) => res.headers.get("x-served-by")?.match(/(web|admin)-\d+/)?.[0];

async function get(path: string, base = stack.urls.store) {
  const res = await fetch(`${base}${path}`, { redirect: "manual" });
  await res.arrayBuffer();
  return res;
}

/** HAProxy's servers of a backend and their state, from the stats CSV. */
async function proxyServers(backend: string): Promise<Record<string, string>> {
  const auth = `Basic ${btoa(`${stack.secrets.STATS_USER}:${stack.secrets.STATS_PASSWORD}`)}`;
  const csv = await (await fetch(`${stack.urls.stats}/;csv`, { headers: { Authorization: auth } })).text();
  const rows = csv.split("\n").map((l) => l.split(","));
  const status = rows[0]!.indexOf("status");
  return Object.fromEntries(
    rows.filter((r) => r[0] === backend && r[1] !== "BACKEND" && r[1] !== "FRONTEND").map((
      r,
    ) => [r[1]!, r[status]!]),
  );
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

type Answer = { at: number; path: string; ok: boolean; by?: string; why?: string };

/**
 * `workers` clients reading the store's pages and API through the proxy until
 * stopped; every answer kept. (Not /healthz: a draining server answers it 503 on
 * purpose, for HAProxy, and no user asks for it.)
 */
function load(workers = 4) {
  const answers: Answer[] = [];
  let running = true;
  const paths = ["/products/Tux", "/", "/products/Whale/"];
  const done = Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = w; running; i++) {
        const at = performance.now();
        const path = paths[i % paths.length]!;
        try {
          const res = await get(path);
          answers.push({ at, path, ok: res.status === 200, by: servedBy(res), why: `HTTP ${res.status}` });
        } catch (err) {
          answers.push({ at, path, ok: false, why: String(err) });
        }
      }
    }),
  );
  return {
    answers,
    now: () => performance.now(),
    async stop() {
      running = false;
      await done;
      return answers;
    },
  };
}

describe("WEB_SERVERS=3, ADMIN_SERVERS=3 in the local stack", () => {
  test("the launcher runs web-1 … web-3 and admin-1 … admin-3, the third of each on the ports after the first two's rule", async () => {
    expect(stack.servers).toEqual({ web: 3, admin: 3 });
    expect(stack.services.filter((s) => /^(web|admin)-\d+$/.test(s))).toEqual([...WEBS, ...ADMINS]);
    expect(stack.urls.web).toEqual(
      [ports.web1, ports.web2, ports.web1 + 2].map((p) => `http://127.0.0.1:${p}`),
    );
    expect(stack.urls.admin).toEqual(
      [ports.admin1, ports.admin2, ports.admin1 + 12].map((p) => `http://127.0.0.1:${p}`),
    );
    expect([stack.env.WEB3_URL, stack.env.ADMIN3_URL, stack.env.WEB_SERVERS]).toEqual([
      stack.urls.web[2],
      stack.urls.admin[2],
      "3",
    ]);
    // Each answers on its own port as itself.
    for (const [i, base] of stack.urls.web.entries()) {
      expect(servedBy(await get("/healthz", base))).toBe(WEBS[i]);
    }
    for (const [i, base] of stack.urls.admin.entries()) {
      expect(servedBy(await get("/healthz", base))).toBe(ADMINS[i]);
    }
  });

  test("HAProxy has exactly those three servers in each backend, all UP", async () => {
    await until(async () =>
      Object.values({ ...(await proxyServers("web")), ...(await proxyServers("admin")) }).every((s) =>
        s === "UP"
      )
    );
    expect(await proxyServers("web")).toEqual({ "web-1": "UP", "web-2": "UP", "web-3": "UP" });
    expect(await proxyServers("admin")).toEqual({ "admin-1": "UP", "admin-2": "UP", "admin-3": "UP" });
  });

  for (
    const [tier, names, path] of [["web", WEBS, "/products/Tux"], ["admin", ADMINS, "/admin/login"]] as const
  ) {
    test(`round robin over all three ${tier} servers: 30 requests in a row through the proxy go to each in turn, 10 each`, async () => {
      const seen: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await get(path);
        expect(res.status).toBe(200);
        seen.push(servedBy(res)!);
      }
      expect(new Set(seen.slice(0, 3))).toEqual(new Set(names));
      // The same order every round: each request goes to the next server.
      for (let i = 3; i < seen.length; i++) expect({ i, by: seen[i] }).toEqual({ i, by: seen[i - 3] });
      for (const n of names) expect(seen.filter((s) => s === n).length).toBe(10);
    });
  }

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(
      `web-3 leaves under load (${signal}) and comes back: no failed request; web-1 and web-2 carry it meanwhile, then web-3 takes its turn again`,
      async () => {
        const run = load();
        await Bun.sleep(1000);
        const left = run.now();
        if (signal === "SIGTERM") await stack.stop("web-3");
        else {
          stack.kill("web-3", "SIGKILL");
          await stack.exited("web-3");
        }
        await until(async () => (await proxyServers("web"))["web-3"] !== "UP");
        const out = run.now();
        await Bun.sleep(1500);
        const back = run.now();
        await stack.start("web-3");
        await until(async () => (await proxyServers("web"))["web-3"] === "UP");
        const up = run.now();
        await Bun.sleep(1500);
        const answers = await run.stop();

        const failed = answers.filter((a) => !a.ok);
        expect({ sent: answers.length > 100, failed: failed.slice(0, 5) }).toEqual({
          sent: true,
          failed: [],
        });
        const by = (from: number, to: number) =>
          new Set(answers.filter((a) => a.at >= from && a.at < to).map((a) => a.by));
        expect(by(0, left)).toEqual(new Set(WEBS));
        // Out of the pool: only the other two answer (none of web-3's, even in flight).
        expect(by(out, back)).toEqual(new Set(["web-1", "web-2"]));
        expect(by(up, Infinity)).toEqual(new Set(WEBS));
        console.log(
          `[servers] web-3 ${signal}: ${answers.length} requests, 0 failed; out of the pool after ${
            Math.round(out - left)
          } ms, back in ${Math.round(up - back)} ms after its start`,
        );
      },
      60_000,
    );
  }
});
