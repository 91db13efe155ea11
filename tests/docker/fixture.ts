// What the compose-pass tests share: the stack (brought up on demand when a file is
// run by hand), the store's URL on the published port, a probe that runs inside a
// container's network namespace, and a bounded load for the failure tests.
import { beforeAll, expect } from "bun:test";
import { BASE_IMAGE, prepare, sh } from "./engine.ts";
import {
  compose,
  type ComposeStack,
  composeStack,
  containerOf,
  inspect,
  isUp,
  replicasByHostname,
  up,
} from "./stack.ts";

/** Every step of these tests runs docker or docker-compose (a second or more each). */
export const STEP_TIMEOUT = 120_000;

export const stack: ComposeStack = composeStack(process.env.COMPOSE_TEST_PROJECT ?? "bazaar-test");
export const STORE = `http://127.0.0.1:${stack.ports.http}`;

/** Brings the stack up once per run if the pass has not (a file run by hand). */
export function useComposeStack() {
  beforeAll(async () => {
    if (isUp(stack)) return;
    // The compose pass prepares before its tests (scripts/test.ts); by hand, here.
    if (!process.env.BAZAAR_DOCKER_PREPARED) await prepare();
    await up(stack, () => {});
  }, 600_000);
}

/**
 * The replica that answered ("web-1", "admin-2"): X-Served-By carries the container's
 * hostname (compose sets none for replicas, so it is the container's own id), mapped
 * through the engine's labels; the map is read again when a hostname is new (a replica
 * recreated or added).
 */
export function servedBy(res: Response): string | undefined {
  const host = res.headers.get("x-served-by")?.split(" / ")[0]?.trim();
  if (!host) return undefined;
  if (!replicas.has(host)) {
    for (const service of ["web", "admin"] as const) {
      for (const [h, n] of replicasByHostname(stack, service)) replicas.set(h, n);
    }
  }
  return replicas.get(host) ?? host;
}
const replicas = new Map<string, string>();

/** A file the secrets service wrote into one consumer's volume (read through a throwaway container). */
export function secretFile(consumer: string, name: string): string {
  const volume = `${stack.project}_secrets-${consumer}`;
  return sh(["docker", "run", "--rm", "-v", `${volume}:/s:ro`, BASE_IMAGE, "cat", `/s/${name}`]).out.trim();
}

/** The admin login of this stack: ADMIN_USER is compose's default, the password the generated one. */
export const adminLogin = () => ({ user: "admin", password: secretFile("admin", "admin_password") });

/** Every address a service's container has, one per network (the stack's own, from docker inspect). */
export function addresses(service: string): { network: string; ip: string }[] {
  return Object.entries(inspect(containerOf(stack, service)).NetworkSettings.Networks).map((
    [network, n],
  ) => ({ network, ip: n.IPAddress }));
}

export type Probe = { target: string; ok: boolean };

/** The output of `cmd` run in a throwaway container sharing `service`'s network namespace. */
function inNetns(service: string, cmd: string[]) {
  const network = `container:${containerOf(stack, service)}`;
  return sh(["docker", "run", "--rm", "--network", network, BASE_IMAGE, ...cmd]).out;
}

/**
 * Tries a TCP connection to each host:port from inside `service`'s network namespace
 * (a throwaway container sharing it: the app images have no shell). Only the
 * stack's own names and addresses are ever given here.
 */
export function connectFrom(service: string, targets: string[], timeoutS = 2): Probe[] {
  const script = targets
    .map((t) => {
      const [host, port] = t.split(":");
      return `if timeout ${timeoutS} bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "ok ${t}"; else echo "no ${t}"; fi`;
    })
    .join("\n");
  const out = inNetns(service, ["bash", "-c", script]);
  return out.trim().split("\n").map((l) => ({ target: l.slice(3), ok: l.startsWith("ok ") }));
}

/** A file from inside a service's network namespace (e.g. /proc/net/route). */
export const readInNetns = (service: string, file: string) => inNetns(service, ["cat", file]);

/**
 * `connections` loops of `step` until `stop()` is called (or maxMs passes): every
 * result, in the order they came.
 *
 * @example const buying = repeat(4, buy); …; const answers = await buying.stop();
 */
export function repeat<T>(connections: number, step: () => Promise<T>, maxMs = Number.POSITIVE_INFINITY) {
  let running = true;
  const results: T[] = [];
  const deadline = Date.now() + maxMs;
  const loops = Array.from({ length: connections }, async () => {
    while (running && Date.now() < deadline) results.push(await step());
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

/**
 * `connections` loops of GET requests to `path` through the proxy until `stop()` is
 * called (or maxMs passes): every answer's status and who served it.
 */
export function load(path: string, connections = 4, maxMs = 60_000) {
  // `at`: when the request was sent (performance.now()), to tell answers sent after an event.
  return repeat(
    connections,
    async (): Promise<{ status: number; by?: string; error?: string; at: number }> => {
      const at = performance.now();
      try {
        const res = await fetch(`${STORE}${path}`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        return { status: res.status, by: servedBy(res), at };
      } catch (err) {
        return { status: 0, error: (err as Error).message, at };
      }
    },
    maxMs,
  );
}

/**
 * The store's purchase, checked through `store` (a compose stack's or a swarm's
 * published port): two of `name` bought, the order readable by its number, the
 * stock down by two.
 */
export async function expectPurchaseTakesStock(store: string, name: string) {
  const quantity = async () =>
    ((await (await fetch(`${store}/products/${name}`)).json()) as { data: { quantity: number } }).data
      .quantity;
  const before = await quantity();
  const res = await fetch(`${store}/orders`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, quantity: 2 }),
  });
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: { order_number: number } };
  const order = await fetch(`${store}/orders/${data.order_number}`);
  expect(await order.json()).toEqual({ data: { number: data.order_number, name, quantity: 2 } });
  expect(await quantity()).toBe(before - 2);
  return data.order_number;
}

/** The command, run inside a Galera node, that prints its probe's whole answer to GET `path` (db/galera/probe.sh, port 9200). */
export const galeraProbeCommand = (path = "/") => [
  "bash",
  "-c",
  `exec 3<>/dev/tcp/127.0.0.1/9200 && printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`,
];

/** Polls until `check` holds (or throws after timeoutMs). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs / 1000} s`);
    await Bun.sleep(500);
  }
}

export { compose, containerOf, inspect };
