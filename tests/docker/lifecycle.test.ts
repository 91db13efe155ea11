// Parts failing and the stack's life cycle on a real engine: `docker kill` of web-1
// under load costs no request and it rejoins after `docker start`; the data survives
// a database restart and `down` + `up`, and is gone after `down -v`. Each test leaves
// the stack up and healthy for the next.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { sh } from "./engine.ts";
import { compose, containerOf, load, stack, STEP_TIMEOUT, STORE, until, useComposeStack } from "./fixture.ts";
import { down, ONE_SHOT, services, untilHealthy, up } from "./stack.ts";

// Per file (Bun applies it to the file that calls it).
setDefaultTimeout(STEP_TIMEOUT);
useComposeStack();

const longRunning = () => services(stack).filter((s) => !ONE_SHOT.has(s));

async function buy(name: string, quantity: number) {
  const res = await fetch(`${STORE}/orders`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, quantity }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { order_number: number } }).data.order_number;
}
const order = (n: number) =>
  fetch(`${STORE}/orders/${n}`).then(async (r) => ({ status: r.status, body: await r.json() }));
async function stock(name: string) {
  const res = await fetch(`${STORE}/products/${name}`);
  const body = await res.text();
  // The status and the body in the failure, not a TypeError on a missing field.
  if (res.status !== 200) throw new Error(`GET /products/${name}: ${res.status} ${body.slice(0, 300)}`);
  return (JSON.parse(body) as { data: { quantity: number } }).data.quantity;
}

describe("a web server killed under load", () => {
  test(
    "docker kill web-1: zero failed requests; web-2 answers meanwhile; after docker start web-1 serves again",
    async () => {
      const traffic = load("/", 4);
      await Bun.sleep(1500);
      const web1 = containerOf(stack, "web-1");
      sh(["docker", "kill", web1]);
      const killedAt = performance.now();
      await Bun.sleep(3000);
      // Requests sent once web-1 was dead (those in flight before may have been its last
      // answers); HAProxy takes it out after two failed checks, restart: unless-stopped
      // brings it back by itself soon after.
      const rightAfter = traffic.results.filter((r) => r.at > killedAt);
      // restart: unless-stopped may bring it back by itself already; start is then a no-op.
      sh(["docker", "start", web1]);
      await untilHealthy(stack, ["web-1"], 60_000);
      const back = traffic.results.length;
      // Back in HAProxy's pool: it answers again through the proxy.
      await until(
        () => traffic.results.slice(back).some((r) => r.by === "web-1"),
        30_000,
        "web-1 serving again",
      );
      const all = await traffic.stop();
      const failed = all.filter((r) => r.status !== 200);
      expect({ sent: all.length > 50, failed: failed.slice(0, 5) }).toEqual({ sent: true, failed: [] });
      // After the kill, web-2 carried the load (HAProxy retried on it what web-1 dropped).
      expect(rightAfter.filter((r) => r.by === "web-2").length).toBeGreaterThan(5);
    },
    120_000,
  );
});

describe("as many web servers as asked for", () => {
  test(
    "--scale web=3 under load: a third replica joins HAProxy's round robin; back to 2, it leaves; no request fails",
    async () => {
      const traffic = load("/", 4);
      try {
        compose(stack, ["up", "-d", "--no-deps", "--no-build", "--scale", "web=3", "web"]);
        await untilHealthy(stack, ["web-3"], 60_000);
        // Found by HAProxy's server-template through Docker's DNS, no reload.
        await until(() => traffic.results.some((r) => r.by === "web-3"), 30_000, "web-3 serving");
        // Round robin over all three: of the next 90 answers, each has about a third.
        const from = traffic.results.length;
        await until(() => traffic.results.length >= from + 90, 30_000, "90 more answers");
        const share = new Map<string, number>();
        for (const r of traffic.results.slice(from, from + 90)) share.set(r.by!, (share.get(r.by!) ?? 0) + 1);
        expect([...share.keys()].sort()).toEqual(["web-1", "web-2", "web-3"]);
        for (const n of share.values()) expect(n).toBeGreaterThanOrEqual(20);
        // Removed again: it drains (its /healthz says 503 first) and the others carry on.
        const before = traffic.results.length;
        compose(stack, ["up", "-d", "--no-deps", "--no-build", "--scale", "web=2", "web"]);
        await until(() => !containerOf(stack, "web-3"), 60_000, "web-3 gone");
        await Bun.sleep(2000);
        expect(traffic.results.slice(-20).every((r) => r.by === "web-1" || r.by === "web-2")).toBe(true);
        expect(traffic.results.length).toBeGreaterThan(before);
      } finally {
        const all = await traffic.stop();
        expect(all.filter((r) => r.status !== 200).slice(0, 5)).toEqual([]);
      }
    },
    180_000,
  );
});

describe("web servers' memory across replicas", () => {
  // Each replica's own published port (the WEB_PORTS range on 127.0.0.1).
  const direct = (index: number) =>
    `http://${compose(stack, ["port", "--index", String(index), "web", "8083"]).out.trim()}`;
  const quantityAt = async (base: string, name: string) => {
    const res = await fetch(`${base}/products/${name}`);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${base}/products/${name}: ${res.status} ${body.slice(0, 300)}`);
    return (JSON.parse(body) as { data: { quantity: number } }).data.quantity;
  };
  const fromMemory = async (base: string) =>
    ((await (await fetch(`${base}/healthz`)).json()) as { data: { from_memory?: number } }).data
      .from_memory ?? 0;
  const buyAt = async (base: string, name: string) => {
    const res = await fetch(`${base}/orders`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, quantity: 1 }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };

  test(
    "--scale web=3: each replica answers from memory, shows every purchase once it is answered; one paused holds a purchase up one grant at most",
    async () => {
      const name = "Whale";
      compose(stack, ["up", "-d", "--no-deps", "--no-build", "--scale", "web=3", "web"]);
      try {
        await untilHealthy(stack, ["web-3"], 60_000);
        const bases = [1, 2, 3].map(direct);
        // Each has it in memory once it has checked it under a grant.
        for (const base of bases) {
          await until(
            async () => {
              const served = await fromMemory(base);
              await quantityAt(base, name);
              return (await fromMemory(base)) > served;
            },
            30_000,
            `${base} answering from memory`,
          );
        }
        // A purchase through any one, then every replica shows it at once.
        for (const via of bases) {
          const q = await quantityAt(bases[0]!, name);
          await buyAt(via, name);
          for (const base of bases) expect(await quantityAt(base, name)).toBe(q - 1);
        }
        // web-3 paused (the cgroup freezer, as kill -STOP): a purchase through web-1 waits for
        // web-3's grant to run out, then is answered; the others show it, and web-3 once back.
        const q = await quantityAt(bases[0]!, name);
        const web3 = containerOf(stack, "web-3");
        sh(["docker", "pause", web3]);
        let tookMs = 0;
        try {
          const t0 = performance.now();
          await buyAt(bases[0]!, name);
          tookMs = Math.round(performance.now() - t0);
          expect(await quantityAt(bases[0]!, name)).toBe(q - 1);
          expect(await quantityAt(bases[1]!, name)).toBe(q - 1);
        } finally {
          sh(["docker", "unpause", web3]);
        }
        expect(await quantityAt(bases[2]!, name)).toBe(q - 1);
        console.log(`[leases] a purchase with web-3 paused took ${tookMs} ms (one grant is 500 ms)`);
      } finally {
        compose(stack, ["up", "-d", "--no-deps", "--no-build", "--scale", "web=2", "web"]);
        await until(() => !containerOf(stack, "web-3"), 60_000, "web-3 gone");
      }
    },
    180_000,
  );
});

describe("the data", () => {
  test("survives docker-compose restart db", async () => {
    const n = await buy("Python", 1);
    const left = await stock("Python");
    compose(stack, ["restart", "-t", "20", "db"]);
    await untilHealthy(stack, ["db"], 120_000);
    // The APIs reconnect by themselves.
    await until(async () => (await order(n)).status === 200, 60_000, "order readable after the restart");
    expect((await order(n)).body).toEqual({ data: { number: n, name: "Python", quantity: 1 } });
    expect(await stock("Python")).toBe(left);
  }, 180_000);

  test("survives down and up (the db-data volume is kept), and is gone after down -v", async () => {
    const n = await buy("Tux", 3);
    const left = await stock("Tux");
    await down(stack, () => {}, false);
    await up(stack, () => {});
    expect((await order(n)).body).toEqual({ data: { number: n, name: "Tux", quantity: 3 } });
    expect(await stock("Tux")).toBe(left);

    await down(stack, () => {}, true);
    expect(sh(["docker", "volume", "ls", "-q", "--filter", `name=${stack.project}_db-data`]).out.trim()).toBe(
      "",
    );
    await up(stack, () => {});
    expect((await order(n)).status).toBe(404);
    // The seed again: no purchase of Tux has happened on this database.
    expect(await stock("Tux")).toBeGreaterThan(left);
    await untilHealthy(stack, longRunning());
  }, 400_000);
});
