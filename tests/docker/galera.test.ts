// compose.ha.yaml on a real engine (issue 23): the store over three MariaDB Galera
// nodes behind the data tier's HAProxy, on the stand-ins, as a project of its own
// (bazaar-galera, ports PORT_PLAN.composeGalera) brought up from scratch and taken
// down with its volumes at the end, with compose.replicas.yaml too (two of each API).
// One cluster for every scenario, in order: it sells; an api and an admin-api replica
// `kill -9`ed under load fail no request; the writer `kill -9`ed under purchases
// through the public port loses no acknowledged order, and its restart policy brings
// it back to rejoin by IST; the writer hung (`docker pause`) loses none either; a node
// cut off from the others refuses reads and writes, then rejoins; the whole cluster
// stopped cleanly, and killed, starts again by itself with every order.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { BASE_IMAGE, prepare, sh } from "./engine.ts";
import { galeraProbeCommand, repeat, STEP_TIMEOUT, until } from "./fixture.ts";
import {
  compose,
  composeStack,
  containerOf,
  containersOf,
  down,
  GALERA_FILES,
  inspect,
  untilHealthy,
  up,
} from "./stack.ts";

setDefaultTimeout(STEP_TIMEOUT);

const stack = composeStack("bazaar-galera", undefined, GALERA_FILES);
const STORE = `http://127.0.0.1:${stack.ports.http}`;
const NODES = ["db-1", "db-2", "db-3"] as const;
type Node = (typeof NODES)[number];
const log = (line: string) => console.log(`[galera compose] ${line}`);

beforeAll(async () => {
  if (!process.env.BAZAAR_DOCKER_PREPARED) await prepare();
  // From scratch: a run cut short may have left the project's volumes.
  await down(stack, () => {}, true);
  const t0 = performance.now();
  await up(stack, () => {});
  log(`up from scratch in ${Math.round(performance.now() - t0) / 1000} s (images built before)`);
}, 900_000);

afterAll(async () => {
  await down(stack, () => {}, true);
}, 300_000);

const node = (name: Node) => containerOf(stack, name);

/** SQL as root on one node, over its socket (its own view, not HAProxy's); `ok: false` with the error. */
function sqlOn(name: Node, query: string) {
  const r = sh(
    [
      "docker",
      "exec",
      "-e",
      `MYSQL_PWD=${rootPassword()}`,
      node(name),
      "mariadb",
      "-uroot",
      "-N",
      "-B",
      "-e",
      query,
    ],
    { allowFail: true },
  );
  return { ok: r.ok, out: r.out.trim(), err: r.err.trim() };
}
const rootPassword =
  () => (password ??= sh(["docker", "exec", node("db-1"), "cat", "/run/bazaar-secrets/mysql_root_password"])
    .out.trim());
let password: string | undefined;

/** What node `name`'s probe answers (HAProxy's check): its status line and state. */
function probe(name: Node) {
  const r = sh(["docker", "exec", node(name), ...galeraProbeCommand()], { allowFail: true });
  return {
    ok: / 200 /.test(r.out.split("\n")[0] ?? ""),
    state: r.out.trim().split("\n").at(-1) ?? r.err.trim(),
  };
}

/** The order numbers node `name` holds (the store's 0, 1, 2 … are the table's 1, 2, 3 …). */
function ordersOn(name: Node): Set<number> {
  const r = sqlOn(name, "SELECT number - 1 FROM bazaar.orders");
  if (!r.ok) throw new Error(`${name}: ${r.err}`);
  return new Set(r.out.split("\n").filter(Boolean).map(Number));
}

/** Waits until node `name` holds every order of `orders` (a commit reaches the others a moment later). */
async function expectAllOn(name: Node, orders: Iterable<number>) {
  let missing: number[] = [];
  await until(
    () => {
      const held = ordersOn(name);
      missing = [...orders].filter((o) => !held.has(o));
      return missing.length === 0;
    },
    30_000,
    `every order on ${name}`,
  ).catch(() => {});
  expect(missing, `orders missing on ${name}`).toEqual([]);
}

/** Tux's stock and the quantity of its orders, on node `name`: their sum never changes. */
function tuxLedger(name: Node) {
  const r = sqlOn(
    name,
    "SELECT i.quantity, COALESCE(SUM(o.quantity), 0) FROM bazaar.items i LEFT JOIN bazaar.orders o ON o.item_id = i.id WHERE i.name = 'Tux' GROUP BY i.id",
  );
  const [stock, ordered] = r.out.split("\t").map(Number);
  return stock! + ordered!;
}

type Purchase = { status: number; order?: number; requestId?: string; error?: string };

/** One Tux bought through the public port: the answer, the order number and the request id HAProxy gave it. */
async function buy(): Promise<Purchase> {
  try {
    const res = await fetch(`${STORE}/orders`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Tux", quantity: 1 }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { data?: { order_number: number } };
    return {
      status: res.status,
      order: body.data?.order_number,
      requestId: res.headers.get("x-request-id") ?? "",
    };
  } catch (err) {
    return { status: 0, error: (err as Error).message };
  }
}

/** `buyers` loops of purchases until stopped: every answer, when it was sent (`at`) and when it came (`done`). */
const purchases = (buyers = 4) =>
  repeat(buyers, async () => {
    const at = Date.now();
    const answer = await buy();
    return { ...answer, at, done: Date.now() };
  });

/**
 * Node `name` started again after `startedAt` (by its restart policy, else docker
 * start) and Synced, by its own probe (the engine's health status is the old one for
 * a moment after a restart); says which brought it back.
 */
async function untilBack(name: Node, startedAt: string) {
  let by = "its restart policy";
  const restarted = () => {
    const st = inspect(node(name)).State;
    return st.Running && st.StartedAt !== startedAt;
  };
  await until(restarted, 10_000, `${name} restarted by its policy`).catch(() => {
    by = "docker start";
    sh(["docker", "start", node(name)]);
  });
  await until(() => probe(name).ok, 180_000, `${name} Synced`);
  return by;
}

/** The admin password the secrets service generated for this project (read through a throwaway container). */
const adminPassword = () =>
  sh([
    "docker",
    "run",
    "--rm",
    "-v",
    `${stack.project}_secrets-admin:/s:ro`,
    BASE_IMAGE,
    "cat",
    "/s/admin_password",
  ])
    .out.trim();

type Answer = Purchase & { at: number; done: number };

/**
 * What a run of purchases came to, checked: every answer 200, 503 or 504; each 504
 * ("unknown", never "not placed") looked up by its request id; every acknowledged
 * order (and every 504 found placed) on every node, none numbered twice; Tux's stock
 * and orders still adding up. Returns the counts by status and of the 504s found.
 */
async function settle(answers: Answer[]) {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  const inDoubt = answers.filter((a) => a.status === 504);
  const found: number[] = [];
  for (const a of inDoubt) {
    const res = await fetch(`${STORE}/orders?request_id=${a.requestId}`);
    const body = (await res.json()) as { data?: { order_number?: number } };
    if (res.status === 200 && body.data?.order_number !== undefined) found.push(body.data.order_number);
  }
  expect(answers.filter((a) => ![200, 503, 504].includes(a.status)).slice(0, 5)).toEqual([]);
  const acknowledged = [...answers.flatMap((a) => (a.status === 200 ? [a.order!] : [])), ...found];
  expect(new Set(acknowledged).size).toBe(acknowledged.length);
  for (const n of NODES) await expectAllOn(n, acknowledged);
  for (const n of NODES) expect(tuxLedger(n)).toBe(ledger);
  return `answers ${
    JSON.stringify(counts)
  }; ${inDoubt.length} 504s, ${found.length} of them found placed by request id`;
}

const galeraNetwork = () => `${stack.project}_galera`;
let ledger = 0;

describe("compose.ha.yaml: three Galera nodes behind the data tier's HAProxy", () => {
  test("comes up from scratch and sells, order numbers dense from 0; every node holds the orders", async () => {
    const placed = [await buy(), await buy(), await buy()];
    expect(placed.map((p) => [p.status, p.order])).toEqual([[200, 0], [200, 1], [200, 2]]);
    for (const n of NODES) await expectAllOn(n, [0, 1, 2]);
    for (const n of NODES) expect(probe(n)).toEqual({ ok: true, state: "Synced / Primary" });
    // Plenty of stock for the failover's purchases (place_order reads the row itself).
    expect(sqlOn("db-1", "UPDATE bazaar.items SET quantity = 100000 WHERE name = 'Tux'").ok).toBe(true);
    ledger = tuxLedger("db-1");
    const stats = sh([
      "docker",
      "stats",
      "--no-stream",
      "--format",
      "{{.Name}} {{.MemUsage}}",
      ...NODES.map(node),
    ]);
    log(`nodes' memory: ${stats.out.trim().split("\n").join("; ")}`);
  });

  test(
    "kill -9 of one api and one admin-api replica under reads, purchases and admin pages: no failed request; both come back",
    async () => {
      const admin = new AdminBrowser(STORE);
      expect((await admin.login("admin", adminPassword())).status).toBe(303);
      const reads = repeat(2, async () => {
        const res = await fetch(`${STORE}/products/Tux`, { signal: AbortSignal.timeout(30_000) }).catch(() =>
          undefined
        );
        await res?.arrayBuffer();
        return `read ${res?.status ?? 0}`;
      });
      const buys = purchases(2);
      const pages = repeat(
        1,
        async () => `admin ${(await admin.get("/admin").catch(() => ({ status: 0 }))).status}`,
      );
      await until(() => buys.results.filter((a) => a.status === 200).length >= 10, 30_000, "purchases going");
      // A crash as the engine sees one (not `docker kill`, a stop asked for): PID 1 of one
      // replica of each API SIGKILLed from the host; their restart policy brings them back.
      const victims = [containersOf(stack, "api")[0]!, containersOf(stack, "admin-api")[0]!];
      const before = victims.map((id) => inspect(id).State);
      for (const st of before) process.kill(st.Pid, "SIGKILL");
      await until(
        () =>
          victims.every((id, i) =>
            inspect(id).State.Running && inspect(id).State.StartedAt !== before[i]!.StartedAt
          ),
        30_000,
        "both replicas restarted",
      );
      await until(
        () => victims.every((id) => inspect(id).State.Health?.Status === "healthy"),
        60_000,
        "both healthy",
      );
      await Bun.sleep(2000);
      const answers = [
        ...await reads.stop(),
        ...(await buys.stop()).map((a) => `buy ${a.status}`),
        ...await pages.stop(),
      ];
      const counts: Record<string, number> = {};
      for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
      log(`an api and an admin-api replica killed: ${JSON.stringify(counts)}`);
      expect(answers.filter((a) => !/ (200|303)$/.test(a))).toEqual([]);
    },
    180_000,
  );

  test(
    "kill -9 of the writer under purchases: no acknowledged order lost, none twice; it rejoins by IST",
    async () => {
      const load = purchases(4);
      await until(() => load.results.filter((a) => a.status === 200).length >= 20, 30_000, "purchases going");
      const killedAt = Date.now();
      // A crash, as the engine sees one (`docker kill` counts as a stop asked for, which
      // unless-stopped leaves stopped): mariadbd SIGKILLed from the host.
      const { Pid, StartedAt } = inspect(node("db-1")).State;
      process.kill(Pid, "SIGKILL");
      const restartedBy = await untilBack("db-1", StartedAt);
      const syncedAt = Date.now();
      // HAProxy moves the writes back to db-1 once it is Synced (the backups' sessions cut first).
      await Bun.sleep(2000);
      const answers = await load.stop();

      const after = answers.filter((a) => a.at > killedAt);
      const firstAck = after.filter((a) => a.status === 200).sort((a, b) => a.done - b.done)[0];
      const ist = sh(["docker", "logs", node("db-1")], { allowFail: true });
      const byIst = /IST received|IST completed on joiner/.test(ist.out + ist.err);
      const summary = await settle(answers);
      log(
        `writer killed: the first purchase sent after it acknowledged ${
          firstAck ? firstAck.done - killedAt : "never"
        } ms after the kill; db-1 back (${restartedBy}) and Synced after ${
          syncedAt - killedAt
        } ms (by IST: ${byIst}); ${summary}`,
      );
      expect(firstAck).toBeDefined();
      expect(byIst).toBe(true);
    },
    300_000,
  );

  test(
    "the writer hung (docker pause) under purchases: writes move on, no acknowledged order lost, none twice; unpaused, it rejoins",
    async () => {
      await until(() => NODES.every((n) => probe(n).ok), 60_000, "every node Synced");
      const load = purchases(4);
      await until(() => load.results.filter((a) => a.status === 200).length >= 20, 30_000, "purchases going");
      const pausedAt = Date.now();
      sh(["docker", "pause", node("db-1")]);
      try {
        await until(
          () => load.results.some((a) => a.at > pausedAt && a.status === 200),
          30_000,
          "a purchase acknowledged by another node",
        );
        await Bun.sleep(2000);
      } finally {
        sh(["docker", "unpause", node("db-1")]);
      }
      const firstAck = load.results.filter((a) => a.at > pausedAt && a.status === 200)
        .sort((a, b) => a.done - b.done)[0]!;
      await until(() => probe("db-1").ok, 120_000, "db-1 Synced again");
      await Bun.sleep(2000);
      const summary = await settle(await load.stop());
      log(
        `writer paused: the first purchase sent after it acknowledged ${
          firstAck.done - pausedAt
        } ms later; ${summary}`,
      );
    },
    300_000,
  );

  test(
    "a node cut off from the others refuses reads and writes, the store sells on; reconnected, it rejoins",
    async () => {
      await until(() => NODES.every((n) => probe(n).ok), 60_000, "every node Synced");
      const net = galeraNetwork();
      sh(["docker", "network", "disconnect", net, node("db-3")]);
      try {
        await until(() => !probe("db-3").ok, 30_000, "db-3 out of the Primary Component");
        log(`db-3 cut off: its probe says ${probe("db-3").state}`);
        const read = sqlOn("db-3", "SELECT COUNT(*) FROM bazaar.orders");
        const write = sqlOn("db-3", "UPDATE bazaar.items SET quantity = quantity WHERE name = 'Tux'");
        expect({ read: read.ok, write: write.ok }).toEqual({ read: false, write: false });
        expect(read.err).toMatch(/WSREP has not yet prepared node/);
        const sold = await buy();
        expect(sold.status).toBe(200);
      } finally {
        sh(["docker", "network", "connect", "--alias", "db-3", net, node("db-3")]);
      }
      await until(() => probe("db-3").ok, 60_000, "db-3 Synced again");
      await expectAllOn("db-3", ordersOn("db-1"));
    },
    180_000,
  );

  for (const how of ["stopped (docker-compose stop)", "killed (docker kill)"] as const) {
    test(`the whole cluster ${how} and started again: every order there, no person needed`, async () => {
      const before = ordersOn("db-1");
      if (how.startsWith("stopped")) compose(stack, ["stop", "-t", "120", ...NODES]);
      else sh(["docker", "kill", ...NODES.map(node)]);
      const t0 = performance.now();
      // Killed, their restart policy may bring them back by itself; start is then a no-op.
      compose(stack, ["start", ...NODES]);
      await untilHealthy(stack, [...NODES, "db"], 240_000);
      log(`cluster ${how}: Synced again ${Math.round(performance.now() - t0) / 1000} s after the start`);
      for (const n of NODES) await expectAllOn(n, before);
      let next: Purchase = { status: 0 };
      await until(async () => (next = await buy()).status === 200, 60_000, "a purchase after the restart");
      // Numbers go on from the last: after a clean stop the next; after a crash InnoDB
      // may have spent one on a purchase it rolled back.
      if (how.startsWith("stopped")) expect(next.order).toBe(Math.max(...before) + 1);
      else expect(next.order).toBeGreaterThan(Math.max(...before));
      for (const n of NODES) expect(tuxLedger(n)).toBe(ledger);
    }, 400_000);
  }
});
