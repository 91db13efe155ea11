// bun bench/src/web-layers.ts [connections] [seconds] [layer,…]
// What web costs per request, one layer at a time: each layer below is served alone by
// a child process (this file with `--serve <layer> <port>`, on the ceiling's first
// fixed-server port), wrk straight at it (`GET /products/Tux`, with the proxy's
// X-Request-Id and X-Forwarded-For), and its µs of CPU per request printed. Each layer
// is the one before it plus one piece of web's stack; `app` is web's own createApp
// with an api answered in-process (every read a coalesced check, but no network).
// docs/performance-notes.md, What each request still costs. Not while the bench runs.
import path from "node:path";
import { Hono } from "hono";
import { handleErrors } from "@bazaar/lib/http.ts";
import { logRequests, withRequestId } from "@bazaar/lib/log.ts";
import { pageHeaders } from "@bazaar/lib/ui/http.ts";
import { REPO_ROOT } from "../../local/src/index.ts";
import { createApiClient } from "../../web/src/api-client.ts";
import { createApp } from "../../web/src/app.ts";
import { errorsAs } from "../../web/src/env.ts";
import { cpuSeconds } from "./procs.ts";
import { BENCH_PORTS, CEILING_PORTS, checkBenchPorts } from "./stack.ts";
import { wrk } from "./wrk.ts";

const LAYERS = {
  bun: "Bun.serve, a fixed answer",
  "bun-headers": "… with web's response headers",
  hono: "a Hono app (strict: false, the route a sub-app)",
  async: "… plus one async middleware that does nothing",
  id: "… plus withRequestId (instead of the one above)",
  log: "… plus logRequests",
  headers: "… plus pageHeaders",
  chain: "… plus errorsAs and handleErrors: web's chain",
  app: "web's createApp, the api in-process",
  "app-page": "… GET / (the storefront page)",
} as const;
type Layer = keyof typeof LAYERS;

const IDENTITY = "bench · web-1";
const item = { name: "Tux", price: 12.5, quantity: 1000 };
const body = JSON.stringify({ data: item });
const json = { "Content-Type": "application/json" };

/** The api's `POST /items/check`, answered in-process: every item is Tux, every page ten of it. */
const checkReply = async (_url: RequestInfo | URL, init?: RequestInit) => {
  const ask = JSON.parse(String(init?.body)) as {
    items: { etag?: string }[];
    pages: { etag?: string; page: number; per_page: number; q: string }[];
  };
  const items = Array.from({ length: 10 }, (_, i) => ({ ...item, name: `Tux ${i + 1}` }));
  const answer = <T>(etag: string | undefined, value: T) =>
    etag ? { etag, unchanged: true as const } : { etag: '"v1"', value };
  const data = {
    items: ask.items.map((a) => answer(a.etag, item)),
    pages: ask.pages.map((p) =>
      answer(p.etag, { items, page: p.page, per_page: p.per_page, total: 10, q: p.q })
    ),
  };
  return Response.json({ data });
};

async function serveLayer(layer: Layer, port: number) {
  let fetch: (req: Request) => Response | Promise<Response>;
  if (layer === "app" || layer === "app-page") {
    const api = createApiClient({
      url: "http://api.invalid",
      token: "t",
      timeoutMs: 3000,
      fetch: checkReply,
    });
    fetch = createApp({ api, identity: IDENTITY }).fetch;
  } else if (layer === "bun" || layer === "bun-headers") {
    // web's headers as its chain answers them, made once.
    const made = await new Hono().use(withRequestId(), pageHeaders(IDENTITY)).get(
      "/",
      (c) => c.body(body, 200, json),
    )
      .request("/");
    const headers = layer === "bun" ? json : Object.fromEntries(made.headers);
    fetch = () => new Response(body, { headers });
  } else {
    const at = ["hono", "async", "id", "log", "headers", "chain"].indexOf(layer);
    const app = new Hono({ strict: false });
    if (layer === "async") app.use(async (_c, next) => await next());
    if (at >= 2) app.use(withRequestId((_id, c) => c.req.method !== "POST"));
    if (at >= 3) app.use(logRequests("web"));
    if (at >= 4) app.use(pageHeaders(IDENTITY));
    const route = new Hono();
    if (at >= 5) route.get("/:name", errorsAs("json"), (c) => c.body(body, 200, json));
    else route.get("/:name", (c) => c.body(body, 200, json));
    app.route("/products", route);
    fetch = (at >= 5 ? handleErrors(app) : app).fetch;
  }
  Bun.serve({ hostname: "127.0.0.1", port, fetch });
}

const args = process.argv.slice(2);
if (args[0] === "--serve") {
  await serveLayer(args[1] as Layer, Number(args[2]));
} else {
  const [connections = "32", seconds = "4", only] = args;
  const port = CEILING_PORTS.web1;
  await checkBenchPorts(BENCH_PORTS.filter((p) => p.port === port));
  const url = `http://127.0.0.1:${port}`;
  const headers = { "X-Request-Id": "0123456789abcdef0123456789abcdef", "X-Forwarded-For": "127.0.0.1" };
  console.log(`connections ${connections}, ${seconds} s each; µs of CPU per request of the server`);
  for (const layer of (only?.split(",") ?? Object.keys(LAYERS)) as Layer[]) {
    const child = Bun.spawn([process.execPath, import.meta.path, "--serve", layer, String(port)], {
      cwd: REPO_ROOT,
      stdout: Bun.file(path.join(REPO_ROOT, ".local/web-layers.log")),
      stderr: "inherit",
    });
    try {
      const target = layer === "app-page" ? `${url}/` : `${url}/products/Tux`;
      for (let tries = 0; !(await fetch(target).then((r) => r.ok, () => false)); tries++) {
        if (tries > 100) throw new Error(`layer ${layer} did not answer on ${port}`);
        await Bun.sleep(50);
      }
      await wrk(target, { connections: Number(connections), seconds: 1, headers });
      const before = cpuSeconds(child.pid)!;
      const result = await wrk(target, {
        connections: Number(connections),
        seconds: Number(seconds),
        headers,
      });
      const us = ((cpuSeconds(child.pid)! - before) * 1e6 / result.requests).toFixed(1);
      console.log(
        `${layer.padEnd(12)} ${us.padStart(6)} µs  ${result.rps.toFixed(0).padStart(6)} req/s  ${
          LAYERS[layer]
        }`,
      );
    } finally {
      child.kill();
      await child.exited;
    }
  }
}
