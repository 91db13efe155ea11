// API_SERVERS=2 ADMIN_API_SERVERS=2 (issue 23, point 3): a stack of its own (ports
// PORT_PLAN.replicas, data in .local/test-replicas) with two api and two admin-api
// instances behind the internal HAProxy (proxy/internal.cfg). Under load through the
// public port — purchases, reads, admin writes — one instance of each is killed
// (`kill -9`: the launcher restarts it) or stopped (SIGTERM: it drains first): no read
// or purchase fails, every acknowledged order exists, stock and orders add up, every
// admin write is made exactly once, and the instance comes back into the pool.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { orderKey } from "../../lib/src/order-number.ts";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import type { ServiceName, Stack } from "../../local/src/index.ts";
import { internalStatsSocket, plannedPorts, PORT_PLAN, startStack } from "../../local/src/index.ts";
import { stopOnSignals, stopRequests } from "../../local/src/index.ts";

const OFFSET = Number(process.env.REPLICAS_TEST_PORT_OFFSET ?? PORT_PLAN.replicas.offset);
const DATA_DIR = process.env.REPLICAS_TEST_DATA_DIR ?? ".local/test-replicas";
const servers = { web: 2, admin: 1 };
const ports = plannedPorts("replicas", servers, OFFSET);

let stack: Stack;
let admin: AdminBrowser;

beforeAll(async () => {
  const requests = stopRequests();
  const starting = startStack({
    signal: requests.signal,
    dataDir: DATA_DIR,
    fresh: true,
    quiet: true,
    ports,
    servers,
    replicas: { api: 2, adminApi: 2 },
    env: { ...process.env, STORE_DATA_DIR: undefined },
    drainMs: 1500,
  });
  stopOnSignals(requests, starting);
  stack = await starting;
  admin = new AdminBrowser(stack.urls.store);
  const res = await admin.login(stack.secrets.ADMIN_USER, stack.secrets.ADMIN_PASSWORD);
  if (res.status !== 303) throw new Error(`admin sign-in: HTTP ${res.status}`);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** The internal proxy's servers of a backend: state and requests sent so far, from `show stat`. */
async function pool(backend: "api" | "admin_api"): Promise<Record<string, { status: string; sent: number }>> {
  const csv = await new Promise<string>((resolve, reject) => {
    let text = "";
    const s = connect(internalStatsSocket(stack.dataDir), () => s.end("show stat\n"));
    s.on("data", (d) => (text += d));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
  const rows = csv.split("\n").map((l) => l.split(","));
  const head = rows[0]!.map((h) => h.replace(/^# /, ""));
  const [status, stot] = [head.indexOf("status"), head.indexOf("stot")];
  return Object.fromEntries(
    rows.filter((r) => r[0] === backend && r[1] !== "BACKEND" && r[1] !== "FRONTEND")
      .map((r) => [r[1]!, { status: r[status]!, sent: Number(r[stot]) }]),
  );
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await Bun.sleep(100);
  }
}

const adminApi = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.urls.adminApi}${path}`, {
    method,
    headers: { Authorization: `Bearer ${stack.secrets.ADMIN_API_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const quantityOf = async (name: string) =>
  Number(
    (await stack.sql(`SELECT quantity FROM bazaar.items WHERE name = '${name}'`)).trim().split("\n").at(-1),
  );

/** What a load saw: each kind's requests, and each that failed with why. */
type Seen = {
  reads: number;
  readFailures: string[];
  /** Purchases acknowledged (200): their public order numbers. */
  orders: number[];
  /** Purchases answered 504 "may or may not": their request ids, looked up afterwards. */
  inDoubt: string[];
  purchaseFailures: string[];
  /** Admin writes (each adds 1 to the restock item), by form key: acknowledged (303). */
  writes: string[];
  /** Admin writes answered "may or may not" (502/504): their forms, sent again afterwards with the same key. */
  writesInDoubt: Record<string, string>[];
  writeFailures: string[];
};

/**
 * Buyers, readers and an admin through the public port until stopped: `buyers`
 * clients buying one `toy` each time, two reading, one admin adding 1 to `restocked`
 * with each form (its own Idempotency-Key).
 */
function load(toy: string, restocked: string, buyers = 3) {
  const seen: Seen = {
    reads: 0,
    readFailures: [],
    orders: [],
    inDoubt: [],
    purchaseFailures: [],
    writes: [],
    writesInDoubt: [],
    writeFailures: [],
  };
  let running = true;
  const store = stack.urls.store;
  const buyer = async () => {
    while (running) {
      try {
        const res = await fetch(`${store}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ name: toy, quantity: 1 }),
        });
        const body = await res.json() as { data?: { order_number: number } };
        if (res.status === 200 && body.data) seen.orders.push(body.data!.order_number);
        else if (res.status === 504) seen.inDoubt.push(res.headers.get("x-request-id")!);
        else seen.purchaseFailures.push(`HTTP ${res.status} ${JSON.stringify(body)}`);
      } catch (err) {
        seen.purchaseFailures.push(String(err));
      }
    }
  };
  const reader = async (w: number) => {
    const paths = [`/products/${encodeURIComponent(toy)}`, "/", "/products/Tux"];
    for (let i = w; running; i++) {
      try {
        const res = await fetch(`${store}${paths[i % paths.length]}`, {
          headers: { Accept: "application/json" },
        });
        const text = await res.text();
        seen.reads++;
        if (res.status !== 200) {
          seen.readFailures.push(
            `${paths[i % paths.length]}: HTTP ${res.status} ${res.headers.get("x-request-id")} ${
              text.slice(0, 200)
            }`,
          );
        }
      } catch (err) {
        seen.readFailures.push(String(err));
      }
    }
  };
  const writer = async () => {
    while (running) {
      try {
        const page = await (await admin.get("/admin")).text();
        seen.reads++;
        const csrf = page.match(/name="_csrf" value="([^"]+)"/)?.[1];
        const idem = page.match(/name="idem" value="([^"]+)"/)?.[1];
        if (!csrf || !idem) {
          seen.readFailures.push("/admin: no form");
          continue;
        }
        const form = { name: restocked, quantity: "1", price: "", _csrf: csrf, idem };
        const res = await admin.post("/admin/items", form);
        await res.arrayBuffer();
        if (res.status === 303) seen.writes.push(idem);
        else if (res.status === 504 || res.status === 502) seen.writesInDoubt.push(form);
        else seen.writeFailures.push(`HTTP ${res.status}`);
      } catch (err) {
        seen.writeFailures.push(String(err));
      }
      await Bun.sleep(20);
    }
  };
  const done = Promise.all([
    ...Array.from({ length: buyers }, buyer),
    reader(0),
    reader(1),
    writer(),
  ]);
  return {
    seen,
    async stop() {
      running = false;
      await done;
      return seen;
    },
  };
}

/**
 * After a load: each purchase in doubt looked up by its request id, each admin write
 * in doubt sent again with its key; then the books: every acknowledged order exists,
 * stock + orders = the start, and the restock item grew by exactly the writes made.
 */
async function books(seen: Seen, toy: string, toyStart: number, restocked: string, restockedStart: number) {
  let foundInDoubt = 0;
  for (const id of seen.inDoubt) {
    const res = await fetch(`${stack.urls.store}/orders?request_id=${id}`, {
      headers: { Accept: "application/json" },
    });
    await res.arrayBuffer();
    if (res.status === 200) foundInDoubt++;
  }
  for (const form of seen.writesInDoubt) {
    const res = await admin.post("/admin/items", form);
    await res.arrayBuffer();
    expect(res.status).toBe(303);
  }
  const numbers = new Set(
    (await stack.sql(
      `SELECT o.number FROM bazaar.orders o JOIN bazaar.items i ON i.id = o.item_id WHERE i.name = '${toy}'`,
    )).trim().split("\n").filter((l) => /^\d+$/.test(l)).map(Number),
  );
  const missing = seen.orders.filter((n) => !numbers.has(orderKey(n)));
  expect({ missing }).toEqual({ missing: [] });
  expect(numbers.size).toBe(seen.orders.length + foundInDoubt);
  expect((await quantityOf(toy)) + numbers.size).toBe(toyStart);
  expect(await quantityOf(restocked)).toBe(restockedStart + seen.writes.length + seen.writesInDoubt.length);
  return { foundInDoubt };
}

let n = 0;
/** A toy to buy and one to restock, of a test's own. */
async function items() {
  n++;
  const toy = `Replica Toy ${n}`;
  const restocked = `Replica Restock ${n}`;
  for (const [name, quantity] of [[toy, 50_000], [restocked, 10]] as const) {
    const res = await adminApi("POST", "/items", { name, quantity, price: 3 });
    expect(res.status).toBe(201);
  }
  return { toy, restocked };
}

/** The first few failures of each kind a load saw. */
const failures = (seen: Seen) => ({
  reads: seen.readFailures.slice(0, 5),
  purchases: seen.purchaseFailures.slice(0, 5),
  writes: seen.writeFailures.slice(0, 5),
});

/**
 * A load on items of its own; after 1.5 s `leave` takes `victim` away and brings it
 * back; once its backend has it UP again, 2 s more. Then the books are checked.
 * → what the load saw, how long `leave` took, and the requests the victim took in
 * those last 2 s.
 */
async function underLoad(victim: ServiceName, backend: "api" | "admin_api", leave: () => Promise<void>) {
  const retriedBefore = await retried();
  const { toy, restocked } = await items();
  const [toyStart, restockedStart] = [await quantityOf(toy), await quantityOf(restocked)];
  const run = load(toy, restocked);
  await Bun.sleep(1500);
  const t0 = performance.now();
  await leave();
  const ms = Math.round(performance.now() - t0);
  await until(`${victim} UP`, async () => (await pool(backend))[victim]!.status === "UP");
  const sentBack = (await pool(backend))[victim]!.sent;
  await Bun.sleep(2000);
  const seen = await run.stop();
  const rejoined = (await pool(backend))[victim]!.sent - sentBack;
  const { foundInDoubt } = await books(seen, toy, toyStart, restocked, restockedStart);
  return { seen, ms, rejoined, foundInDoubt, retried: (await retried()) - retriedBefore };
}

/** Requests the internal proxy sent again to another instance so far (its log's retries field, `%rc`). */
async function retried() {
  const log = await Bun.file(`${stack.logDir}/internal-proxy.log`).text();
  // After the termination state (----): actconn/feconn/beconn/srv_conn/retries, "+" when redispatched.
  return log.split("\n").filter((l) => / [-A-Za-z]{4} \d+\/\d+\/\d+\/\d+\/\+?[1-9]/.test(l)).length;
}

const APIS: ServiceName[] = ["api-1", "api-2"];
const ADMIN_APIS: ServiceName[] = ["admin-api-1", "admin-api-2"];

describe("API_SERVERS=2 ADMIN_API_SERVERS=2 in the local stack", () => {
  test("two of each, on API_PORT + 10n, behind the internal proxy on the APIs' own ports; both apis take requests, one admin-api at a time", async () => {
    expect(stack.replicas).toEqual({ api: 2, adminApi: 2 });
    expect(stack.services.filter((s) => /api|internal/.test(s))).toEqual([
      ...APIS,
      ...ADMIN_APIS,
      "internal-proxy",
    ]);
    for (const [i, name] of APIS.entries()) {
      const res = await fetch(`http://127.0.0.1:${ports.api + 10 * (i + 1)}/healthz`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
    await until(
      "every instance UP",
      async () =>
        Object.values({ ...(await pool("api")), ...(await pool("admin_api")) }).every((s) =>
          s.status === "UP"
        ),
    );
    const before = { ...(await pool("api")), ...(await pool("admin_api")) };
    for (let i = 0; i < 10; i++) {
      await (await fetch(`${stack.urls.store}/products/Tux`)).arrayBuffer();
      await (await admin.get("/admin")).arrayBuffer();
    }
    const after = { ...(await pool("api")), ...(await pool("admin_api")) };
    expect(Object.keys(after)).toEqual([...APIS, ...ADMIN_APIS]);
    // The api's instances take turns; admin-api-2 waits while admin-api-1 is up.
    const took = (name: string) => after[name]!.sent > before[name]!.sent;
    expect([...APIS, ...ADMIN_APIS].map(took)).toEqual([true, true, true, false]);
    // What the hop costs (printed, not asserted): one item read, straight at api-1 and
    // through the internal proxy, one at a time.
    const median = async (base: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        const res = await fetch(`${base}/items/Tux`, {
          headers: { Authorization: `Bearer ${stack.secrets.API_TOKEN}` },
        });
        await res.arrayBuffer();
        ms.push(performance.now() - t0);
      }
      return ms.sort((a, b) => a - b)[150]!.toFixed(2);
    };
    const direct = await median(`http://127.0.0.1:${ports.api + 10}`);
    const proxied = await median(stack.urls.api);
    console.log(
      `[replicas] GET /items/Tux, median of 300: ${direct} ms straight at api-1, ${proxied} ms through the internal proxy`,
    );
  });

  for (const [victim, backend] of [["api-1", "api"], ["admin-api-1", "admin_api"]] as const) {
    test(
      `kill -9 of ${victim} under load: no read or purchase fails, the books add up, the launcher restarts it and it rejoins the pool`,
      async () => {
        const { seen, ms, rejoined, foundInDoubt, retried } = await underLoad(victim, backend, async () => {
          const pid = stack.pid(victim)!;
          process.kill(pid, "SIGKILL");
          await until(`${victim} restarted`, () => stack.running(victim) && stack.pid(victim) !== pid);
          await stack.waitHealthy(victim);
        });
        expect(failures(seen)).toEqual({ reads: [], purchases: [], writes: [] });
        expect(seen.orders.length).toBeGreaterThan(50);
        expect(rejoined).toBeGreaterThan(0);
        console.log(
          `[replicas] kill -9 ${victim}: ${seen.reads} reads, ${
            seen.orders.length + seen.inDoubt.length
          } purchases (${seen.inDoubt.length} answered 504, ${foundInDoubt} of them placed), ${
            seen.writes.length + seen.writesInDoubt.length
          } admin writes (${seen.writesInDoubt.length} answered "may or may not", made once when sent again); 0 failed; ${retried} sent again to the other instance; restarted and healthy in ${ms} ms; ${rejoined} requests to it in the 2 s after it was UP again`,
        );
      },
      90_000,
    );
  }

  test(
    "kill -STOP of api-2 under load (hung 1 s past leaving the pool): no read fails (sent on to api-1 after 1 s); the purchases it held answer 504 and are found or not by request id; the books add up",
    async () => {
      const { seen, ms, retried, foundInDoubt } = await underLoad("api-2", "api", async () => {
        const pid = stack.pid("api-2")!;
        process.kill(pid, "SIGSTOP");
        await until(
          "api-2 out of the pool",
          async () => (await pool("api"))["api-2"]!.status.startsWith("DOWN"),
        );
        await Bun.sleep(1000);
        process.kill(pid, "SIGCONT");
      });
      console.log(
        `[replicas] SIGSTOP api-2: ${seen.reads} reads (${seen.readFailures.length} failed: ${
          JSON.stringify(seen.readFailures.slice(0, 3))
        }), ${
          seen.orders.length + seen.inDoubt.length
        } purchases (${seen.inDoubt.length} answered 504, ${foundInDoubt} of them placed; ${seen.purchaseFailures.length} failed), ${seen.writes.length} admin writes; ${retried} sent again to api-1; stopped for ${ms} ms`,
      );
      // A read waits at most the check in flight (READ_TIMEOUT, 1 s, then api-1) and its
      // own (the same): 2 s, inside web's 3 s deadline. A purchase is not sent on.
      expect(failures(seen)).toEqual({ reads: [], purchases: [], writes: [] });
    },
    90_000,
  );

  test("a sign-out on admin-api-1 ends the session on admin-api-2 too, which held it in memory", async () => {
    const away = async () => {
      await stack.stop("admin-api-1");
      await until(
        "admin-api-1 out of the pool",
        async () => (await pool("admin_api"))["admin-api-1"]!.status !== "UP",
      );
    };
    const back = async () => {
      await stack.start("admin-api-1");
      await until("admin-api-1 UP", async () => (await pool("admin_api"))["admin-api-1"]!.status === "UP");
    };
    await away();
    const b = new AdminBrowser(stack.urls.store);
    expect((await b.login(stack.secrets.ADMIN_USER, stack.secrets.ADMIN_PASSWORD)).status).toBe(303);
    expect((await b.get("/admin")).status).toBe(200); // checked on admin-api-2: held in its memory
    await back();
    const cookies = new Map(b.cookies);
    expect((await b.submit("/admin/logout", {})).status).toBe(303); // ended on admin-api-1
    await away();
    try {
      b.cookies = cookies; // the cookie kept, as a copy of it would be
      const after = await b.get("/admin");
      expect([after.status, after.headers.get("location")]).toEqual([303, "/admin/login"]);
    } finally {
      await back();
    }
  }, 60_000);

  // admin-api-1 is the one in use (balance first); admin-api-2 takes over while it is away.
  for (const [victim, backend] of [["api-2", "api"], ["admin-api-1", "admin_api"]] as const) {
    test(
      `a clean stop (SIGTERM) of ${victim} under load: it drains, nothing fails, and started again it rejoins`,
      async () => {
        const { seen, ms, rejoined } = await underLoad(victim, backend, async () => {
          await stack.stop(victim);
          await until(
            `${victim} out of the pool`,
            async () => (await pool(backend))[victim]!.status !== "UP",
          );
          await Bun.sleep(1000);
          await stack.start(victim);
        });
        expect({ ...failures(seen), inDoubt: seen.inDoubt.length + seen.writesInDoubt.length }).toEqual({
          reads: [],
          purchases: [],
          writes: [],
          inDoubt: 0,
        });
        expect(rejoined).toBeGreaterThan(0);
        console.log(
          `[replicas] SIGTERM ${victim}: ${seen.reads} reads, ${seen.orders.length} purchases, ${seen.writes.length} admin writes; 0 failed, 0 in doubt; out and back in ${ms} ms (drain 1.5 s, 1 s down)`,
        );
      },
      90_000,
    );
  }
});
