// The store on a swarm of several nodes (tests/swarm/nodes.ts: Docker engines in
// containers of this machine's engine, images through a registry) — deploy/stack.ha.yaml,
// the replicated database one Galera node a swarm node, on three nodes (deploy/stack.yaml
// on two): the store's checks through the proxy on the manager, web's tasks spread over
// every node; the whole database stopped and started again (one node bootstraps); then
// under load a Galera node's task killed (it catches up by IST), one worker killed
// without a word and another drained and stopped, each with no failed request and every
// acknowledged order there afterwards (the database losing a node each time, and going
// on); then the stack removed and the nodes torn down leaving nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { prepare } from "../docker/engine.ts";
import { expectPurchaseTakesStock, until } from "../docker/fixture.ts";
import {
  type Cluster,
  GALERA_NODES,
  galeraQuery,
  galeraSynced,
  leftovers,
  memoryMiB,
  NODE_COUNT,
  NODES_STACK_FILE,
  nodesDeployEnv,
  pushImages,
  readyNodes,
  startNodes,
  stopNode,
  taskLogs,
  taskNodes,
  teardownNodes,
} from "./nodes.ts";
import {
  buildImages,
  containers,
  deployStack,
  dockerOn,
  healthyTasks,
  load,
  networks,
  removeTaskHistory,
  STACK,
} from "./swarm.ts";

const log = (line: string) => console.log(`[swarm-nodes] ${line}`);
/** Milliseconds as seconds to a tenth, for the log. */
const s = (ms: number) => Math.round(ms / 100) / 10;
/** One web server a node: each node has one to lose. */
const WEB = NODE_COUNT;
let cluster: Cluster;
let adminPassword = "";
/** An item with stock for every purchase of the load (the admin adds it). */
const ITEM = `Swarm-nodes-${Date.now()}`;

beforeAll(async () => {
  if (!process.env.BAZAAR_DOCKER_PREPARED) await prepare();
  buildImages(log);
  const t0 = performance.now();
  cluster = await startNodes(NODE_COUNT, log);
  const t1 = performance.now();
  await pushImages(log);
  const t2 = performance.now();
  ({ adminPassword } = await deployStack(cluster, nodesDeployEnv(WEB), cluster.secretsDir, log, {
    stackFile: NODES_STACK_FILE,
  }));
  log(
    `${NODE_COUNT} nodes in a swarm in ${s(t1 - t0)} s, images pushed in ${s(t2 - t1)} s, ${STACK} serving ${
      s(performance.now() - t2)
    } s after deploy (${s(performance.now() - t0)} s in all); nodes and registry use ${memoryMiB()} MiB`,
  );
}, 900_000);

afterAll(async () => {
  await teardownNodes(log);
}, 180_000);

const manager = () => cluster.engines[0]!;
/** The nodes stopped by the tests so far (their engines answer no more). */
const stopped = new Set<string>();
const live = (): Cluster => ({ ...cluster, engines: cluster.engines.filter((e) => !stopped.has(e)) });

/** The orders acknowledged under load that cannot be read back (none, when none was lost). */
async function missingOrders(orders: number[]) {
  const missing: number[] = [];
  for (let i = 0; i < orders.length; i += 16) {
    await Promise.all(
      orders.slice(i, i + 16).map(async (n) => {
        if ((await fetch(`${cluster.store}/orders/${n}`)).status !== 200) missing.push(n);
      }),
    );
  }
  return missing;
}

const stock = async () =>
  ((await (await fetch(`${cluster.store}/products/${ITEM}`)).json()) as { data: { quantity: number } }).data
    .quantity;

/**
 * `act` done under load (purchases of ITEM), the load stopped 2 s after it, its figures
 * logged as `what`; checks that orders were acknowledged and every one can be read back.
 * `taken`: how far ITEM's stock went down meanwhile.
 */
async function underLoad(what: string, act: () => Promise<void>) {
  const before = await stock();
  // A request caught on a node that went away is retried by HAProxy after 9 s (backend
  // web's timeout server): the client waits longer than that.
  const running = load(4, { store: cluster.store, item: ITEM, timeoutMs: 15_000 });
  await Bun.sleep(1500);
  await act();
  await Bun.sleep(2000);
  const r = await running.stop();
  log(
    `${what}: ${r.answers.length} answers, ${r.failed.length} failed ${
      JSON.stringify(r.failed.slice(0, 5))
    }, ${r.orders.length} orders acknowledged`,
  );
  expect(r.orders.length).toBeGreaterThan(0);
  expect(await missingOrders(r.orders)).toEqual([]);
  return { ...r, taken: before - (await stock()) };
}

describe(`the store on a swarm of ${NODE_COUNT} nodes`, () => {
  test("every node joined and is ready; the data and the services behind web are on the data node", () => {
    expect(readyNodes(cluster).sort()).toEqual(cluster.nodes.map((n) => n.name));
    for (const service of ["db", "redis", "api", "admin-api", "cache"]) {
      expect({ service, on: taskNodes(cluster, service) }).toEqual({ service, on: ["node-1"] });
    }
  });

  test.if(GALERA_NODES.length > 0)(
    "the replicated database: one Galera node on each swarm node, every one Synced in the cluster",
    async () => {
      GALERA_NODES.forEach((db, i) => {
        expect({ db, on: taskNodes(cluster, db) }).toEqual({ db, on: [cluster.nodes[i]!.name] });
      });
      // The joiners copy db-1 first, one after the other; healthy is Swarm's check
      // (the server answers), which must not have replaced any of them meanwhile.
      const t0 = performance.now();
      await until(
        () => GALERA_NODES.every((db) => galeraSynced(cluster, db) && healthyTasks(db, cluster) === 1),
        180_000,
        "every Galera node Synced",
      );
      log(`every Galera node Synced ${s(performance.now() - t0)} s after the store first answered`);
    },
    200_000,
  );

  test("the store answers through the proxy on the manager: pages, a purchase, the admin's write", async () => {
    expect(await (await fetch(`${cluster.store}/`)).text()).toContain("Tux");
    await expectPurchaseTakesStock(cluster.store, "Tux");
    const admin = new AdminBrowser(cluster.store);
    expect((await admin.login("admin", adminPassword)).status).toBe(303);
    const added = await admin.submit("/admin/items", { name: ITEM, quantity: "1000000", price: "1.00" });
    expect(added.status).toBeLessThan(400);
    expect(await (await fetch(`${cluster.store}/products/${ITEM}`)).json()).toEqual({
      data: { name: ITEM, price: 1, quantity: 1000000 },
    });
  });

  test("web's tasks are spread over every node, and every one of them answers", async () => {
    expect(taskNodes(cluster, "web").sort()).toEqual(cluster.nodes.map((n) => n.name));
    const servers = async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 3 * WEB; i++) {
        seen.add((await fetch(`${cluster.store}/`)).headers.get("x-served-by")!);
      }
      return seen.size;
    };
    await until(async () => (await servers()) === WEB, 30_000, "every web server answering");
  });

  test.if(GALERA_NODES.length > 0)(
    "the whole database stopped and started again, a node a machine: they agree who bootstraps, every order there",
    async () => {
      const placed = await expectPurchaseTakesStock(cluster.store, "Tux");
      const scale = (replicas: number) =>
        dockerOn(manager(), [
          "service",
          "scale",
          "-d",
          ...GALERA_NODES.map((db) => `${STACK}_${db}=${replicas}`),
        ]);
      scale(0);
      await until(
        () => GALERA_NODES.every((db) => containers(db, cluster).length === 0),
        120_000,
        "every Galera node stopped",
      );
      const t0 = performance.now();
      scale(1);
      // Each reads the others' positions through their probes: their volumes are each machine's own.
      await until(
        () => GALERA_NODES.every((db) => galeraSynced(cluster, db)),
        180_000,
        "every Galera node Synced again",
      );
      const bootstrapped = GALERA_NODES.filter((db) =>
        /most advanced: bootstrapping/.test(taskLogs(cluster, db))
      );
      log(
        `the whole database stopped and started: Synced again ${
          s(performance.now() - t0)
        } s after the start; bootstrapped by ${bootstrapped.join(", ")}`,
      );
      expect(bootstrapped.length).toBe(1);
      await until(
        async () => (await fetch(`${cluster.store}/orders/${placed}`)).status === 200,
        60_000,
        "the order",
      );
      await expectPurchaseTakesStock(cluster.store, "Tux");
    },
    300_000,
  );

  test.if(GALERA_NODES.length > 0)(
    "a Galera node's task killed under load: Swarm starts it again on its machine, it catches up by IST, every order there",
    async () => {
      const db = "db-2";
      const machine = cluster.nodes[1]!;
      const onMachine = { ...cluster, engines: [machine.engine] };
      const [killed] = containers(db, onMachine);
      const r = await underLoad(`${db}'s task killed`, async () => {
        const t0 = performance.now();
        dockerOn(machine.engine, ["kill", killed!]);
        await until(
          () => (containers(db, onMachine)[0] ?? killed) !== killed && galeraSynced(onMachine, db),
          120_000,
          `${db} started again and Synced`,
        );
        log(`${db} killed: started again on ${machine.name} and Synced ${s(performance.now() - t0)} s later`);
      });
      expect(r.failed).toEqual([]);
      expect(r.taken).toBe(r.orders.length);
      expect(taskLogs(onMachine, db)).toMatch(/IST received|IST completed on joiner/);
      // The node itself holds every order acknowledged, those of its downtime too.
      const held = galeraQuery(
        cluster,
        db,
        `SELECT COUNT(*) FROM bazaar.orders WHERE number IN (${r.orders.join(",")})`,
      );
      expect(Number(held)).toBe(r.orders.length);
    },
    300_000,
  );

  // A second worker to lose: three nodes or more (SWARM_NODES=2 has one).
  test.if(NODE_COUNT >= 3)(
    "a worker killed under load, not drained: no failed request, every order kept, its web task elsewhere",
    async () => {
      const worker = cluster.nodes.find((n) => n.name !== "node-1" && !stopped.has(n.engine))!;
      const onIt = taskNodes(cluster, "web").filter((n) => n === worker.name).length;
      // With it go a web task (its requests in flight retried by HAProxy at 9 s) and,
      // on three nodes, a Galera node: the other two go on as the Primary Component.
      const r = await underLoad(`${worker.name} (${onIt} web tasks) killed`, async () => {
        const t0 = performance.now();
        stopNode(worker, "kill");
        stopped.add(worker.engine);
        await until(() => !readyNodes(cluster).includes(worker.name), 60_000, `${worker.name} down`);
        const down = performance.now();
        await until(
          () => healthyTasks("web", live()) === WEB,
          120_000,
          `${WEB} web tasks healthy on the rest`,
        );
        log(
          `${worker.name} reported down after ${s(down - t0)} s, its web tasks healthy elsewhere after ${
            s(performance.now() - t0)
          } s`,
        );
      });
      expect(r.failed).toEqual([]);
      expect(r.taken).toBe(r.orders.length);
      // The database still takes writes: its writer, db-1, Synced in the Primary Component.
      if (GALERA_NODES.length) expect(galeraSynced(live(), "db-1")).toBe(true);
    },
    300_000,
  );

  test(
    "a worker drained and stopped under load: no failed request, its task elsewhere, every order kept",
    async () => {
      const worker = cluster.nodes.at(-1)!;
      const rest = { ...live(), engines: live().engines.filter((e) => e !== worker.engine) };
      const r = await underLoad(`${worker.name} drained and stopped`, async () => {
        // Drained first: Swarm stops its tasks (web drains for 3 s, HAProxy moves away) and
        // starts them on the other nodes; then the node, with nothing of the stack, stops.
        // Its Galera node stops cleanly and leaves the cluster (it has nowhere else to run).
        dockerOn(manager(), ["node", "update", "--availability", "drain", worker.name]);
        await until(
          () => containers(undefined, { ...cluster, engines: [worker.engine] }).length === 0,
          90_000,
          `${worker.name} without tasks`,
        );
        await until(() => healthyTasks("web", rest) === WEB, 120_000, `${WEB} web tasks healthy elsewhere`);
        // Nothing of the stack is on it: not waited for until the manager calls it down
        // (12-15 s of heartbeats, which the killed worker's test waits through).
        stopNode(worker);
        stopped.add(worker.engine);
      });
      expect(r.failed).toEqual([]);
      expect(taskNodes(cluster, "web").filter((n) => n === worker.name)).toEqual([]);
      // The stock went down by exactly the orders acknowledged.
      expect(r.taken).toBe(r.orders.length);
      // On three nodes the database is down to db-1 alone, still the Primary Component:
      // the other two left one at a time, the last one cleanly.
      if (GALERA_NODES.length) expect(galeraSynced(live(), "db-1")).toBe(true);
    },
    300_000,
  );

  test(
    "docker stack rm leaves nothing running on the nodes; the nodes torn down leave nothing here",
    async () => {
      dockerOn(manager(), ["stack", "rm", STACK]);
      await until(
        () => containers(undefined, live()).length === 0 && networks(live()).length === 0,
        90_000,
        "the stack gone from the nodes",
      );
      log(
        `stack rm left ${
          containers(undefined, live(), true).length
        } stopped containers (Swarm's task history)`,
      );
      removeTaskHistory(live());
      expect(containers(undefined, live(), true)).toEqual([]);
      await teardownNodes(log);
      expect(leftovers()).toEqual({
        containers: [],
        volumes: [],
        networks: [],
        iptables: [],
        mounts: [],
        images: [],
      });
    },
    180_000,
  );
});
