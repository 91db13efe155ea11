// deploy/stack.yaml on a real swarm of one node: the compose pass's engine made a
// swarm manager (and made one no more afterwards), the app images built on the
// stand-in bases, the third-party images replaced by the stand-ins (HAPROXY_IMAGE, …),
// Swarm's secrets made by deploy/secrets.ts, the stack deployed, and everything
// removed again. Only an engine that is in no swarm is used: one that is already a
// node of a swarm is someone's, and the pass refuses it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PORT_PLAN, REPO_ROOT } from "../../local/src/index.ts";
import { STACK_FILE } from "../../deploy/stack-file.ts";
import { sh, STANDINS } from "../docker/engine.ts";
import { repeat, until } from "../docker/fixture.ts";

export const STACK = "bazaar-swarm-test";
/** The proxy's host-mode port (PORT_PLAN.swarm). */
export const HTTP_PORT = 8080 + PORT_PLAN.swarm.offset;
export const STORE = `http://127.0.0.1:${HTTP_PORT}`;
/** Where the app images are tagged (one node: no registry, the engine has them). */
const REGISTRY = "bazaar-swarm";
const TAG = "test";
const APPS = ["web", "admin", "api", "admin-api"] as const;
/** What the pass made, so teardown removes that and nothing else. */
const STATE_FILE = path.join(REPO_ROOT, ".local/docker/swarm.json");

type State = { initialised: boolean; secretsDir: string };

/** The stand-ins of the stacks' third-party images, by the variable that replaces each (deploy/stack-file.ts, imageVariable). */
export const STANDIN_IMAGES = {
  HAPROXY_IMAGE: STANDINS.haproxy.tag,
  MYSQL_IMAGE: STANDINS.mysql.tag,
  MARIADB_IMAGE: STANDINS.mariadb.tag,
  SERVERLESS_REDIS_HTTP_IMAGE: STANDINS.cache.tag,
  REDIS_IMAGE: STANDINS.redis.tag,
};

/** The variables `docker stack deploy` reads deploy/stack.yaml with here. */
export const deployEnv = () => ({ REGISTRY, TAG, HTTP_PORT: String(HTTP_PORT), ...STANDIN_IMAGES });

/**
 * Where a test's stack runs: the Docker engines of the swarm's nodes, the first a
 * manager (a DOCKER_HOST each; "" is this machine's own engine), and the store's URL
 * (the proxy's published port on that manager).
 */
export type Swarm = { engines: string[]; store: string };
/** The one-node swarm: this machine's engine, the proxy on 127.0.0.1. */
export const ONE_NODE: Swarm = { engines: [""], store: STORE };

/** docker on `engine` (a DOCKER_HOST; "" this machine's). */
export const dockerOn = (engine: string, args: string[], opts: Parameters<typeof sh>[1] = {}) =>
  sh(["docker", ...(engine ? ["-H", engine] : []), ...args], opts);
const docker = (args: string[], opts: Parameters<typeof sh>[1] = {}) => dockerOn("", args, opts);

/** The engine's swarm state: "inactive", "active", … */
const swarmState = () => docker(["info", "--format", "{{.Swarm.LocalNodeState}}"]).out.trim();

/** The address the manager advertises: the default bridge's (127.0.0.1 would keep overlays from reaching other nodes). */
function bridgeAddress(): string {
  const out = sh(["ip", "-4", "-o", "addr", "show", "docker0"]).out;
  const m = out.match(/inet (\d+\.\d+\.\d+\.\d+)/);
  if (!m) throw new Error(`no IPv4 address on docker0: ${out}`);
  return m[1]!;
}

/** Builds our four images on the stand-in bases (the compose pass's build cache makes it quick). */
export function buildImages(log: (line: string) => void) {
  for (const app of APPS) {
    log(`building ${REGISTRY}/bazaar-${app}:${TAG}…`);
    docker([
      "build",
      "-q",
      "--target",
      app,
      "--build-arg",
      `BUN_IMAGE=${STANDINS.bun.tag}`,
      "--build-arg",
      `RUNTIME_IMAGE=${STANDINS.runtime.tag}`,
      "-t",
      `${REGISTRY}/bazaar-${app}:${TAG}`,
      REPO_ROOT,
    ], { env: { DOCKER_BUILDKIT: "0" } });
  }
}

/** A one-node swarm, its secrets and the stack deployed; resolves once the store answers through the proxy. */
export async function deploy(log: (line: string) => void): Promise<{ adminPassword: string }> {
  const state = swarmState();
  if (state !== "inactive") {
    throw new Error(
      `the engine is already in a swarm (${state}): the swarm pass uses only an engine in none`,
    );
  }
  docker(["swarm", "init", "--advertise-addr", bridgeAddress()]);
  const secretsDir = mkdtempSync(path.join(tmpdir(), "bazaar-swarm-secrets-"));
  await Bun.write(STATE_FILE, JSON.stringify({ initialised: true, secretsDir } satisfies State));
  const self = docker(["info", "--format", "{{.Swarm.NodeID}}"]).out.trim();
  docker(["node", "update", "--label-add", "bazaar.data=true", self]);
  buildImages(log);
  // --resolve-image never: the images are this engine's own, no registry is asked.
  return deployStack(ONE_NODE, deployEnv(), secretsDir, log, { flags: ["--resolve-image", "never"] });
}

/**
 * The secrets (deploy/secrets.ts, its kept copies in `secretsDir`) and the stack
 * (`stackFile`, deploy/stack.yaml unless said) deployed on `swarm`'s manager with `env`;
 * resolves once the store answers through the proxy and every task runs, with the
 * admin password.
 */
export async function deployStack(
  swarm: Swarm,
  env: Record<string, string>,
  secretsDir: string,
  log: (line: string) => void,
  { flags = [], stackFile = STACK_FILE }: { flags?: string[]; stackFile?: string } = {},
): Promise<{ adminPassword: string }> {
  const manager = swarm.engines[0]!;
  const host = manager ? { DOCKER_HOST: manager } : {};
  sh(["bun", "deploy/secrets.ts"], { env: { SWARM_SECRETS_DIR: secretsDir, ...host } });
  log(`deploying ${STACK}…`);
  dockerOn(manager, ["stack", "deploy", ...flags, "-c", stackFile, STACK], { env });
  await until(
    async () => (await fetch(`${swarm.store}/products/Tux`)).status === 200,
    240_000,
    "the store through the proxy",
  );
  // Every service at its replicas, the web servers healthy: the proxy's pool is full.
  const web = Number(env.WEB_SERVERS ?? 2);
  await until(
    () => allReplicasRunning(swarm) && healthyTasks("web", swarm) === web,
    120_000,
    "every task running",
  );
  return { adminPassword: readFileSync(path.join(secretsDir, "store/admin_password"), "utf8").trim() };
}

/** What a pass recorded it made (a JSON file), or undefined when it made nothing. */
export function readState<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** The stack removed, then what it leaves behind by design (its volume, the secrets), then the swarm itself. */
export async function teardown(log: (line: string) => void) {
  const state = readState<State>(STATE_FILE);
  if (!state) return;
  docker(["stack", "rm", STACK], { allowFail: true });
  await until(() => containers().length === 0, 60_000, "the stack's containers gone").catch((e) =>
    log(String(e))
  );
  await until(() => networks().length === 0, 60_000, "the stack's networks gone").catch((e) =>
    log(String(e))
  );
  for (
    const s of docker(["secret", "ls", "-q", "--filter", "label=bazaar=true"]).out.split("\n").filter(Boolean)
  ) {
    docker(["secret", "rm", s], { allowFail: true });
  }
  removeTaskHistory();
  docker(["volume", "rm", `${STACK}_db-data`], { allowFail: true });
  if (state.initialised) docker(["swarm", "leave", "--force"], { allowFail: true });
  rmSync(state.secretsDir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
  log(`${STACK} removed, swarm left`);
}

/**
 * The ids of the stack's running containers on every node of `swarm` (optionally one
 * service's; `all`: stopped ones too, which Swarm keeps as its task history).
 */
export const containers = (service?: string, swarm: Swarm = ONE_NODE, all = false) =>
  swarm.engines.flatMap((engine) => tasksOn(engine, service, all));

/** The stack's containers on one engine (as containers() above). */
const tasksOn = (engine: string, service?: string, all = false) =>
  dockerOn(engine, [
    "ps",
    "-q",
    ...(all ? ["-a"] : []),
    "--filter",
    `label=com.docker.stack.namespace=${STACK}`,
    ...(service ? ["--filter", `label=com.docker.swarm.service.name=${STACK}_${service}`] : []),
  ]).out.split("\n").filter(Boolean);

/**
 * Removes the stack's stopped containers on every node of `swarm`: Swarm's task history
 * (the killed, scaled-down and replaced tasks), which `docker stack rm` leaves behind
 * (still there 90 s after it; runs before this removal left 16). Call it once the stack's
 * running containers are gone.
 */
export function removeTaskHistory(swarm: Swarm = ONE_NODE) {
  for (const engine of swarm.engines) {
    const stopped = tasksOn(engine, undefined, true);
    if (stopped.length) dockerOn(engine, ["rm", "-f", ...stopped], { allowFail: true });
  }
}

/** Whether every service of the stack runs as many tasks as it asks for ("2/2"). */
export const allReplicasRunning = (swarm: Swarm = ONE_NODE) =>
  dockerOn(swarm.engines[0]!, [
    "service",
    "ls",
    "--filter",
    `label=com.docker.stack.namespace=${STACK}`,
    "--format",
    "{{.Replicas}}",
  ])
    .out.split("\n").filter(Boolean).every((r) => {
      const [running, wanted] = r.split(" ")[0]!.split("/");
      return running === wanted;
    });

/** The stack's networks on every node of `swarm`. */
export const networks = (swarm: Swarm = ONE_NODE) =>
  swarm.engines.flatMap((engine) =>
    dockerOn(engine, ["network", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${STACK}`]).out
      .split("\n").filter(Boolean)
  );

/** The running, healthy tasks of a service on every node of `swarm`, as their containers report them. */
export function healthyTasks(name: string, swarm: Swarm = ONE_NODE): number {
  return swarm.engines.flatMap((engine) =>
    tasksOn(engine, name).filter((id) =>
      dockerOn(engine, [
        "inspect",
        "--format",
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}",
        id,
      ]).out.trim() === "healthy"
    )
  ).length;
}

/**
 * `connections` loops of requests through the proxy of `store` until stop(): reads of
 * the storefront and a product, and every fourth a purchase of one `item`; every answer
 * counted, every order acknowledged (200) kept by its number; a request not answered
 * in `timeoutMs` counted failed.
 */
export function load(connections = 4, { store = STORE, item = "Whale", timeoutMs = 10_000 } = {}) {
  let n = 0;
  const orders: number[] = [];
  const loops = repeat(connections, async (): Promise<{ status: number; what: string }> => {
    const i = n++;
    const buy = i % 4 === 0;
    const what = buy ? "POST /orders" : i % 2 ? "GET /" : "GET /products/Tux";
    try {
      const res = await fetch(`${store}${buy ? "/orders" : what.slice(4)}`, {
        method: buy ? "POST" : "GET",
        headers: buy ? { "Content-Type": "application/json" } : {},
        body: buy ? JSON.stringify({ name: item, quantity: 1 }) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (buy && res.status === 200) {
        orders.push((JSON.parse(text) as { data: { order_number: number } }).data.order_number);
      }
      return { status: res.status, what };
    } catch (err) {
      return { status: 0, what: `${what}: ${(err as Error).message}` };
    }
  });
  return {
    answers: loops.results,
    async stop() {
      const answers = await loops.stop();
      // Sold out (409) is an answer; a failure is no answer or a 5xx.
      const failed = answers.filter((a) => a.status === 0 || a.status >= 500);
      return { answers, orders, failed: failed.map((a) => `${a.status} ${a.what}`) };
    },
  };
}
