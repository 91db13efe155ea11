// deploy/stack.yaml deployed on a one-node swarm (tests/swarm/swarm.ts): the checks the
// compose pass makes of the store, then a web task killed, web scaled 2 → 4 → 2 and
// rolled to a new version, each under load with no failed request, and the stack removed
// leaving nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { prepare, sh } from "../docker/engine.ts";
import { expectPurchaseTakesStock, until } from "../docker/fixture.ts";
import {
  containers,
  deploy,
  healthyTasks,
  load,
  networks,
  ONE_NODE,
  removeTaskHistory,
  STACK,
  STORE,
  teardown,
} from "./swarm.ts";

const log = (line: string) => console.log(`[swarm] ${line}`);
let adminPassword = "";

beforeAll(async () => {
  const t0 = performance.now();
  if (!process.env.BAZAAR_DOCKER_PREPARED) await prepare();
  ({ adminPassword } = await deploy(log));
  log(`swarm initialised and ${STACK} serving in ${Math.round(performance.now() - t0) / 1000} s`);
}, 600_000);

afterAll(async () => {
  await teardown(log);
}, 180_000);

/** Who served each of `n` storefront pages. */
async function servers(n: number) {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${STORE}/`);
    seen.push(res.headers.get("x-served-by")!);
  }
  return seen;
}

describe("the store on a one-node swarm", () => {
  test("the storefront lists the seeded toys, the JSON API answers with the lab's shapes", async () => {
    expect(await (await fetch(`${STORE}/`)).text()).toContain("Tux");
    expect(await (await fetch(`${STORE}/products/Tux`)).json()).toEqual({
      data: { name: "Tux", price: 15.99, quantity: expect.any(Number) },
    });
  });

  test("a purchase takes the stock down by its quantity and its order can be read", async () => {
    await expectPurchaseTakesStock(STORE, "Tux");
  });

  test("the admin signs in with the password deploy/secrets.ts made and adds an item the storefront shows", async () => {
    const admin = new AdminBrowser(STORE);
    expect((await admin.login("admin", "not-the-password")).status).not.toBe(303);
    expect((await admin.login("admin", adminPassword)).status).toBe(303);
    const name = `Swarm-${Date.now()}`;
    const added = await admin.submit("/admin/items", { name, quantity: "7", price: "3.25" });
    expect(added.status).toBeLessThan(400);
    expect(await (await fetch(`${STORE}/products/${name}`)).json()).toEqual({
      data: { name, price: 3.25, quantity: 7 },
    });
  });

  test("the two web replicas answer in turn (HAProxy finds them by DNS, no virtual IP)", async () => {
    // HAProxy's health checks take a moment to add a task Swarm reports running.
    await until(async () => new Set(await servers(6)).size === 2, 30_000, "both web servers answering");
    const seen = await servers(6);
    // Round robin: each answers every other request.
    expect(new Set(seen).size).toBe(2);
    expect(seen.filter((s, i) => i >= 2 && s !== seen[i - 2])).toEqual([]);
  });

  test("a web task killed under load: no failed request; Swarm starts another", async () => {
    const running = load();
    await Bun.sleep(1500);
    const victim = containers("web")[0]!;
    sh(["docker", "kill", victim]);
    await until(
      () => healthyTasks("web") === 2 && !containers("web").includes(victim),
      90_000,
      "a new web task",
    );
    await Bun.sleep(1500);
    const r = await running.stop();
    log(
      `web task killed: ${r.answers.length} answers, ${r.failed.length} failed ${
        JSON.stringify(r.failed.slice(0, 5))
      }`,
    );
    expect(r.failed).toEqual([]);
  }, 120_000);

  test("web scaled from 2 to 4 and back under load: no failed request; all four served", async () => {
    const running = load();
    sh(["docker", "service", "scale", "--detach", `${STACK}_web=4`]);
    await until(() => healthyTasks("web") === 4, 90_000, "four healthy web tasks");
    await until(async () => new Set(await servers(12)).size === 4, 30_000, "four web servers answering");
    sh(["docker", "service", "scale", "--detach", `${STACK}_web=2`]);
    await until(() => containers("web").length === 2, 90_000, "two web tasks again");
    await Bun.sleep(2000);
    const r = await running.stop();
    log(
      `scaled 2 → 4 → 2: ${r.answers.length} answers, ${r.failed.length} failed ${
        JSON.stringify(r.failed.slice(0, 5))
      }`,
    );
    expect(r.failed).toEqual([]);
  }, 240_000);

  test(
    "a rolling update of web under load (start-first): no failed request; every task replaced",
    async () => {
      const before = new Set(containers("web"));
      const running = load();
      sh(["docker", "service", "update", "--force", "--detach", `${STACK}_web`]);
      await until(
        () => {
          const now = containers("web");
          return now.length === 2 && now.every((id) => !before.has(id)) && healthyTasks("web") === 2;
        },
        180_000,
        "both web tasks replaced and healthy",
      );
      await Bun.sleep(2000);
      const r = await running.stop();
      log(
        `rolling update: ${r.answers.length} answers, ${r.failed.length} failed ${
          JSON.stringify(r.failed.slice(0, 5))
        }`,
      );
      expect(r.failed).toEqual([]);
    },
    240_000,
  );

  test(
    "docker stack rm leaves no running container and no network; the task history removed, nothing",
    async () => {
      sh(["docker", "stack", "rm", STACK]);
      await until(() => containers().length === 0 && networks().length === 0, 90_000, "the stack gone");
      expect(networks()).toEqual([]);
      // What Swarm leaves: the stopped containers of the killed, scaled-down and replaced tasks.
      const all = () => containers(undefined, ONE_NODE, true);
      log(`stack rm left ${all().length} stopped containers (Swarm's task history)`);
      removeTaskHistory();
      expect(all()).toEqual([]);
    },
    120_000,
  );
});
