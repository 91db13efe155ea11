// The edge, as a stranger sees it (docs/reliability.md, bugs found): one address holding
// thousands of slow connections must not starve everyone else, and the proxy must
// not hand out what nobody asked for — request ids that spell the client's address,
// port and the proxy's pid, or a stats page and /metrics without a login.
//
// Loopback has all of 127.0.0.0/8: the slow client and the floods come from
// 127.0.0.2 and up, the health probes and normal clients from 127.0.0.1. Every run is
// bounded in count and time and ends by itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import path from "node:path";
import { haproxyEnv, REPO_ROOT } from "../../local/src/index.ts";
import { record, since } from "./helpers.ts";
import { isErrorShape, store } from "./http.ts";
import { eventually, stack, statsAuth } from "./stack.ts";

const CFG = path.join(REPO_ROOT, "proxy/haproxy.cfg");

/** A port nothing listens on right now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** GET through the proxy from 127.0.0.1: its status, or why it had none within `ms`. */
async function probe(url: string, ms = 2000): Promise<number | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).name;
  }
}

/** One request on a raw connection from `localAddress`: the status line's code, the headers and the client's port. */
function rawGet(
  port: number,
  urlPath: string,
  localAddress = "127.0.0.1",
): Promise<{ status: number; headers: Record<string, string>; localPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    let data = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
    socket.once(
      "connect",
      () => socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    socket.on("data", (chunk) => (data += chunk.toString("latin1")));
    socket.once("error", reject);
    socket.once("close", () => {
      const [head = ""] = data.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(" ")[1]), headers, localPort: socket.localPort ?? 0 });
    });
  });
}

/**
 * `count` connections from `localAddress`, each sending the start of a request and
 * then a header line every 2 s, never the blank line that ends it: the slowloris
 * of docs/reliability.md (bugs found). Opened in batches so the kernel's accept queue sees a realistic
 * ramp rather than one burst.
 */
async function slowClients(port: number, count: number, localAddress: string) {
  const sockets: net.Socket[] = [];
  const state = { reset: 0, closed: 0 };
  for (let i = 0; i < count; i++) {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.once("connect", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n"));
    s.on("error", (err) => {
      if ((err as NodeJS.ErrnoException).code === "ECONNRESET") state.reset++;
    });
    s.once("close", () => state.closed++);
    s.on("data", () => {});
    sockets.push(s);
    if (i % 250 === 249) await Bun.sleep(50);
  }
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed && s.writable) s.write("X-Slow: 1\r\n");
  }, 2000);
  return {
    state,
    /** Connections the proxy still holds open. */
    open: () => sockets.filter((s) => !s.destroyed && s.readyState === "open").length,
    stop() {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    },
  };
}

describe("one address holding thousands of slow connections", () => {
  test(
    "health probes and normal clients from another address keep being answered; that address holds at most its limit",
    async () => {
      const port = Number(new URL(store()).port);
      const limit = 1000; // CONN_LIMIT_PER_SOURCE's default in proxy/haproxy.cfg, which the local stack keeps
      const t0 = performance.now();
      // The count in docs/reliability.md: more than HAProxy's maxconn (4096), which was all it took.
      const slow = await slowClients(port, 4300, "127.0.0.2");
      const opened = since(t0);
      const probes: (number | string)[] = [];
      const reads: (number | string)[] = [];
      let heldMax = 0;
      try {
        // About 7 s, inside `timeout http-request` (10 s), so every slow connection
        // the proxy accepted is still held while the probes run.
        while (performance.now() - t0 < 7500) {
          const [h, r] = await Promise.all([probe(`${store()}/healthz`), probe(`${store()}/products/Tux`)]);
          probes.push(h);
          reads.push(r);
          heldMax = Math.max(heldMax, slow.open());
          await Bun.sleep(250);
        }
        const row = {
          test: "13.10 slowloris, one address",
          slowConnections: 4300,
          openedMs: opened,
          closedByProxy: slow.state.closed,
          reset: slow.state.reset,
          heldAtMost: heldMax,
          probes: probes.length,
          probesOk: probes.filter((s) => s === 200).length,
          reads: reads.length,
          readsOk: reads.filter((s) => s === 200).length,
        };
        record(row);
        expect(probes.length).toBeGreaterThanOrEqual(9);
        expect(probes.filter((s) => s !== 200)).toEqual([]);
        expect(reads.filter((s) => s !== 200)).toEqual([]);
        // The proxy kept no more than the limit open for that address; the rest were reset at once.
        // Counted at the end, not from the samples: a sample can see a connection the proxy has
        // already refused whose reset this process has not read yet (1001 seen once).
        expect(slow.open()).toBeLessThanOrEqual(limit);
        expect(slow.state.closed).toBeGreaterThanOrEqual(4300 - limit);
        expect(heldMax).toBeLessThanOrEqual(limit + 10);
      } finally {
        slow.stop();
      }
      // The address is served again once its connections are gone.
      await eventually(async () => (await rawGet(port, "/healthz", "127.0.0.2")).status === 200, 5000);
    },
    60_000,
  );
});

describe("the limits, on a second HAProxy with the same proxy/haproxy.cfg and low values", () => {
  // Its own HAProxy in front of the stack's web and admin servers, as the bench's
  // ceiling runs one: the local stack's request-rate limit is out of reach of any
  // test (the bench needs it so), and compose's defaults are what this checks with
  // the stats variables unset.
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let base = "";
  let statsBase = "";
  let storePort = 0;
  beforeAll(async () => {
    const ports = { ...stack().ports, store: await freePort(), stats: await freePort() };
    storePort = ports.store;
    base = `http://127.0.0.1:${ports.store}`;
    statsBase = `http://127.0.0.1:${ports.stats}`;
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      ...haproxyEnv(ports), // no stats login: as compose runs it
      CONN_LIMIT_PER_SOURCE: "5",
      REQ_LIMIT_PER_SOURCE_10S: "20",
    };
    proc = Bun.spawn(["haproxy", "-db", "-f", CFG], { env, stdout: "ignore", stderr: "pipe" });
    await eventually(async () => (await probe(`${base}/healthz`, 1000)) === 200, 10_000);
  });
  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
  });

  test("an address over its request rate gets 429 in the store's error shape, with Retry-After; another address is still served", async () => {
    const statuses: number[] = [];
    let denied: { headers: Record<string, string> } | undefined;
    for (let i = 0; i < 25; i++) {
      const r = await rawGet(storePort, "/products/Tux", "127.0.0.3");
      statuses.push(r.status);
      if (r.status === 429) denied ??= r;
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    expect(denied!.headers["retry-after"]).toBe("10");
    expect(denied!.headers["content-type"]).toBe("application/json");
    expect(await probe(`${base}/products/Tux`)).toBe(200); // 127.0.0.1: a count of its own
    // The 429's body, read whole on a connection from the throttled address.
    const text = await new Promise<string>((resolve, reject) => {
      let data = "";
      const s = net.connect({ host: "127.0.0.1", port: storePort, localAddress: "127.0.0.3" });
      s.once("connect", () => s.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      s.on("data", (c) => (data += c));
      s.once("error", reject);
      s.once("close", () => resolve(data.split("\r\n\r\n")[1] ?? ""));
    });
    expect(isErrorShape(JSON.parse(text), 429)).toBe(true);
  });

  test("an address's connection over its limit is reset at once; another address connects", async () => {
    const slow = await slowClients(storePort, 8, "127.0.0.4");
    try {
      await eventually(() => slow.state.closed === 3 && slow.open() === 5, 3000);
      expect((await rawGet(storePort, "/healthz")).status).toBe(200);
    } finally {
      slow.stop();
    }
  });

  test("with no STATS_PASSWORD (compose) the stats port answers 403 to every path", async () => {
    for (const p of ["/", "/;csv", "/metrics", "/stats"]) {
      const res = await fetch(`${statsBase}${p}`, { headers: statsAuth() });
      const body = await res.text();
      expect({ p, status: res.status }).toEqual({ p, status: 403 });
      expect(body).not.toContain("pxname");
      expect(body).not.toContain("haproxy_process");
    }
  });
});

describe("what is visible without asking", () => {
  const ID = /^[0-9a-f]{32}$/;

  test(
    "the request id is 32 random hex digits: not the client's address or port, nor the proxy's pid or counter; unique across a proxy restart",
    async () => {
      const port = Number(new URL(store()).port);
      const seen = new Set<string>();
      const take = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const r = await rawGet(port, "/healthz");
          const id = r.headers["x-request-id"]!;
          // The old id began with the client's address and port in hex (7F000001_…).
          expect({ id, ok: ID.test(id) }).toEqual({ id, ok: true });
          expect(id.toUpperCase()).not.toContain("7F000001");
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
      };
      await take(50);
      await stack().restart("proxy");
      await take(50);
      expect(seen.size).toBe(100);
    },
    60_000,
  );

  test("the stats page and /metrics want the login; wrong credentials get 401 too", async () => {
    const stats = stack().urls.stats;
    const wrong = { Authorization: `Basic ${btoa(`${process.env.STATS_USER}:not-the-password`)}` };
    for (const p of ["/", "/;csv", "/metrics"]) {
      for (const headers of [{}, wrong]) {
        const res = await fetch(`${stats}${p}`, { headers });
        const body = await res.text();
        expect({ p, status: res.status }).toEqual({ p, status: 401 });
        expect(res.headers.get("www-authenticate")).toContain("Basic");
        expect(body).not.toContain("pxname");
        expect(body).not.toContain("haproxy_process");
      }
    }
    const csv = await fetch(`${stats}/;csv`, { headers: statsAuth() });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain("pxname,svname");
    const metrics = await fetch(`${stats}/metrics`, { headers: statsAuth() });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("haproxy_process");
  });
});
