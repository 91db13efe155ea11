// A swarm of several nodes on this one machine: each node a Debian Docker engine in a
// container of this machine's engine (node.Dockerfile), in its own network namespace —
// its iptables chains, overlays and tasks are its own, apart from the compose pass's —
// on a bridge network of their own with a registry (registry.Dockerfile, Debian's
// docker-registry) the images are pushed to and every node pulls from. The first node
// initialises the swarm and keeps the data (label bazaar.data=true); the others join as
// workers. With three nodes or more the replicated database's stack is deployed
// (deploy/stack.ha.yaml), its Galera nodes one a node (labels bazaar.galera=db-1 …).
// Everything is labelled and recorded, so teardownNodes() removes exactly it, and
// leftovers() says what of it would remain.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PORT_PLAN, REPO_ROOT } from "../../local/src/index.ts";
import { BASE_IMAGE, sh, STANDINS } from "../docker/engine.ts";
import { galeraProbeCommand, until } from "../docker/fixture.ts";
import { GALERA_LABEL, HA_STACK_FILE, STACK_FILE } from "../../deploy/stack-file.ts";
import { containers, dockerOn, readState, STACK, STANDIN_IMAGES, type Swarm } from "./swarm.ts";

/** How many nodes (SWARM_NODES moves it; 3 by default: a manager and two workers). */
export const NODE_COUNT = Number(process.env.SWARM_NODES ?? 3);
/** The Galera nodes of deploy/stack.ha.yaml, one a swarm node: three nodes or more. */
export const GALERA_NODES = NODE_COUNT >= 3 ? ["db-1", "db-2", "db-3"] : [];
/** The stack the nodes run: the replicated database's where it fits. */
export const NODES_STACK_FILE = GALERA_NODES.length ? HA_STACK_FILE : STACK_FILE;
const NODE_IMAGE = "bazaar-swarm/node:local";
const REGISTRY_IMAGE = "bazaar-swarm/registry:local";
const PREFIX = "bazaar-swarm-node";
const REGISTRY_CONTAINER = "bazaar-swarm-registry";
const NETWORK = "bazaar-swarm-nodes";
/** The network's bridge on this machine, named so its iptables rules can be found. */
export const BRIDGE = "bzswarmnodes0";
/** On everything made here: containers, network, volumes. */
const LABEL = "bazaar.swarm-nodes=true";
/** The registry as this machine pushes to it (127.0.0.1 needs no TLS), and as the nodes pull. */
const PUSH_REGISTRY = `127.0.0.1:${5000 + PORT_PLAN.swarm.offset}`;
const PULL_REGISTRY = "registry:5000";
/** The proxy's port, published in host mode on the manager's own address (no port of this machine). */
const HTTP_PORT = 8080;
const STATE_FILE = path.join(REPO_ROOT, ".local/docker/swarm-nodes.json");

type State = { socketsDir: string; secretsDir: string };

export type Node = { name: string; container: string; engine: string; ip: string };
export type Cluster = Swarm & { nodes: Node[]; secretsDir: string };

const host = (args: string[], opts: Parameters<typeof sh>[1] = {}) => sh(["docker", ...args], opts);

/** The node images, built on the local base like the stand-ins (layer cache: seconds when unchanged). */
function buildNodeImages(log: (line: string) => void) {
  for (const [tag, file] of [[NODE_IMAGE, "node.Dockerfile"], [REGISTRY_IMAGE, "registry.Dockerfile"]]) {
    log(`building ${tag}…`);
    host(["build", "-q", "--build-arg", `BASE=${BASE_IMAGE}`, "-t", tag!, "-f", file!, "."], {
      cwd: import.meta.dir,
      env: { DOCKER_BUILDKIT: "0" },
    });
  }
}

const ipOf = (container: string) =>
  host(["inspect", "-f", `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, container]).out
    .trim();

/**
 * The network, the registry and `count` node engines started, the swarm made (the
 * first node its manager and data node, the others workers): the cluster's engines
 * and the store's URL on the manager.
 */
export async function startNodes(count: number, log: (line: string) => void): Promise<Cluster> {
  if (host(["ps", "-aq", "--filter", `label=${LABEL}`]).out.trim()) {
    throw new Error(`nodes of an earlier run are still there: bun tests/swarm/main.ts down`);
  }
  buildNodeImages(log);
  const socketsDir = mkdtempSync(path.join(tmpdir(), "bazaar-swarm-nodes-"));
  const secretsDir = mkdtempSync(path.join(tmpdir(), "bazaar-swarm-secrets-"));
  mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  await Bun.write(STATE_FILE, JSON.stringify({ socketsDir, secretsDir } satisfies State));
  host([
    "network",
    "create",
    "--label",
    LABEL,
    "-o",
    `com.docker.network.bridge.name=${BRIDGE}`,
    NETWORK,
  ]);
  host([
    "run",
    "-d",
    "--name",
    REGISTRY_CONTAINER,
    "--label",
    LABEL,
    "--network",
    NETWORK,
    "--network-alias",
    "registry",
    "-p",
    `${PUSH_REGISTRY}:5000`,
    REGISTRY_IMAGE,
  ]);
  const nodes: Node[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `node-${i}`;
    const container = `${PREFIX}-${i}`;
    const sockets = path.join(socketsDir, name);
    mkdirSync(sockets);
    // What runs an engine in a container here (not --privileged: root lacks
    // CAP_SYS_RESOURCE, "unable to apply caps"); its /var/lib/docker on a volume (an
    // overlay2 on overlay2 would not mount), its socket also in a folder of ours.
    host([
      "run",
      "-d",
      "--name",
      container,
      "--hostname",
      name,
      "--label",
      LABEL,
      "--network",
      NETWORK,
      "--cap-add",
      "ALL",
      "--cap-drop",
      "SYS_RESOURCE",
      "--security-opt",
      "seccomp=unconfined",
      "--security-opt",
      "systempaths=unconfined",
      "--device-cgroup-rule",
      "a *:* rwm",
      "-v",
      "/sys/fs/cgroup:/sys/fs/cgroup",
      "--mount",
      `type=volume,source=${container},target=/var/lib/docker,volume-label=${LABEL}`,
      "--tmpfs",
      "/run",
      "-v",
      `${sockets}:/bazaar-sockets`,
      NODE_IMAGE,
      "dockerd",
      "-H",
      "unix:///var/run/docker.sock",
      "-H",
      "unix:///bazaar-sockets/docker.sock",
      "--insecure-registry",
      PULL_REGISTRY,
    ]);
    nodes.push({ name, container, engine: `unix://${sockets}/docker.sock`, ip: ipOf(container) });
  }
  for (const node of nodes) {
    await until(
      () => dockerOn(node.engine, ["info", "--format", "{{.ServerVersion}}"], { allowFail: true }).ok,
      60_000,
      `${node.name}'s engine answering`,
    );
  }
  const [manager, ...workers] = nodes;
  // Each node advertises its address on the nodes' network (127.0.0.1 would keep the
  // overlays from reaching the workers).
  dockerOn(manager!.engine, ["swarm", "init", "--advertise-addr", manager!.ip]);
  const token = dockerOn(manager!.engine, ["swarm", "join-token", "-q", "worker"]).out.trim();
  for (const w of workers) {
    dockerOn(w.engine, ["swarm", "join", "--token", token, "--advertise-addr", w.ip, `${manager!.ip}:2377`]);
  }
  dockerOn(manager!.engine, ["node", "update", "--label-add", "bazaar.data=true", manager!.name]);
  GALERA_NODES.forEach((db, i) =>
    dockerOn(manager!.engine, ["node", "update", "--label-add", `${GALERA_LABEL}=${db}`, nodes[i]!.name])
  );
  await until(() => readyNodes({ engines: [manager!.engine] }).length === count, 60_000, "every node ready");
  return {
    nodes,
    engines: nodes.map((n) => n.engine),
    store: `http://${manager!.ip}:${HTTP_PORT}`,
    secretsDir,
  };
}

/** The image each of the stack's services runs, by their name in this machine's engine. */
const IMAGES = [
  ...["web", "admin", "api", "admin-api"].map((app) => `bazaar-swarm/bazaar-${app}:test`),
  STANDINS.haproxy.tag,
  GALERA_NODES.length ? STANDINS.mariadb.tag : STANDINS.mysql.tag,
  STANDINS.cache.tag,
  STANDINS.redis.tag,
];

/**
 * Every image of the stack pushed to the registry. Compressing the layers is most of
 * the time: the first image alone, so the base layer all share is compressed once (pushed
 * side by side, each push compressed it again: 97 s instead of 54), then two at a time.
 */
export async function pushImages(log: (line: string) => void) {
  log(`pushing ${IMAGES.length} images to the registry…`);
  const push = async (image: string) => {
    host(["tag", image, `${PUSH_REGISTRY}/${image}`]);
    const proc = Bun.spawn(["docker", "push", "-q", `${PUSH_REGISTRY}/${image}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (await proc.exited !== 0) {
      throw new Error(`docker push ${image} failed: ${await new Response(proc.stderr).text()}`);
    }
  };
  const rest = IMAGES.slice(1);
  await push(IMAGES[0]!);
  await Promise.all([0, 1].map(async () => {
    for (let image = rest.shift(); image; image = rest.shift()) await push(image);
  }));
}

/** The variables the stack is deployed with on the nodes: every image from the registry, `webServers` web servers. */
export const nodesDeployEnv = (webServers: number) => ({
  REGISTRY: `${PULL_REGISTRY}/bazaar-swarm`,
  TAG: "test",
  HTTP_PORT: String(HTTP_PORT),
  WEB_SERVERS: String(webServers),
  ...Object.fromEntries(
    Object.entries(STANDIN_IMAGES).map(([variable, tag]) => [variable, `${PULL_REGISTRY}/${tag}`]),
  ),
});

/** The nodes the manager reports ready (`docker node ls`): their hostnames. */
export const readyNodes = (cluster: Pick<Cluster, "engines">) =>
  dockerOn(cluster.engines[0]!, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]).out
    .split("\n").filter((l) => l.endsWith(" Ready")).map((l) => l.split(" ")[0]!);

/** The node each running task of a service is on, as the manager schedules them. */
export const taskNodes = (cluster: Pick<Cluster, "engines">, service: string) =>
  dockerOn(cluster.engines[0]!, [
    "service",
    "ps",
    "--filter",
    "desired-state=running",
    "--format",
    "{{.Node}} {{.CurrentState}}",
    `${STACK}_${service}`,
  ]).out.split("\n").filter((l) => / Running /.test(l)).map((l) => l.split(" ")[0]!);

/** The running task of a one-replica service: its container and the engine of the node it is on. */
function taskOf(cluster: Pick<Cluster, "engines" | "store">, service: string) {
  for (const engine of cluster.engines) {
    const [id] = containers(service, { ...cluster, engines: [engine] });
    if (id) return { engine, id };
  }
  return undefined;
}

/** `command` run inside the running task of a one-replica service: its output (undefined: none runs). */
function execInTask(
  cluster: Pick<Cluster, "engines" | "store">,
  service: string,
  command: string[],
  env = {},
) {
  const task = taskOf(cluster, service);
  if (!task) return undefined;
  const vars = Object.entries(env).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
  return dockerOn(task.engine, ["exec", ...vars, task.id, ...command], { allowFail: true }).out;
}

/** What the running task of a one-replica service has logged (stdout and stderr; "" when none runs). */
export function taskLogs(cluster: Pick<Cluster, "engines" | "store">, service: string) {
  const task = taskOf(cluster, service);
  if (!task) return "";
  const logs = dockerOn(task.engine, ["logs", task.id], { allowFail: true });
  return logs.out + logs.err;
}

/**
 * Whether Galera node `db` is Synced in the Primary Component: its probe's GET /, asked
 * inside its task (the galera network is internal; the task's health check on Swarm
 * asks only whether the server answers: deploy/stack-file.ts, aliveCheck).
 */
export const galeraSynced = (cluster: Pick<Cluster, "engines" | "store">, db: string) =>
  /^HTTP\/1\.\d 200 /.test(
    execInTask(cluster, db, galeraProbeCommand()) ?? "",
  );

/**
 * A query's rows (tab-separated) as Galera node `db` itself answers it, as root (the
 * password deploy/secrets.ts kept), after the node has applied every write committed
 * before it (wsrep_sync_wait).
 */
export const galeraQuery = (cluster: Cluster, db: string, query: string) =>
  execInTask(cluster, db, [
    "mariadb",
    "-uroot",
    "-N",
    "-B",
    "-e",
    `SET SESSION wsrep_sync_wait = 1; ${query}`,
  ], {
    MYSQL_PWD: readFileSync(path.join(cluster.secretsDir, "store/mysql_root_password"), "utf8").trim(),
  })?.trim();

/** The memory the node containers and the registry use now (MiB, as `docker stats` counts it). */
export function memoryMiB(): number {
  const ids = host(["ps", "-q", "--filter", `label=${LABEL}`]).out.split("\n").filter(Boolean);
  if (!ids.length) return 0;
  const units: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 };
  return Math.round(
    host(["stats", "--no-stream", "--format", "{{.MemUsage}}", ...ids]).out.split("\n").filter(Boolean)
      .reduce((sum, line) => {
        const m = /^([\d.]+)(\w+)/.exec(line)!;
        return sum + Number(m[1]) * (units[m[2]!] ?? 0);
      }, 0),
  );
}

/**
 * Stops a node's container, its engine and every task on it with it: `docker stop` (the
 * engine shuts down), or `kill` — SIGKILL, as a machine losing power, nothing told.
 */
export const stopNode = (node: Node, how: "stop" | "kill" = "stop") =>
  host(how === "stop" ? ["stop", "-t", "30", node.container] : ["kill", node.container]);

/**
 * Everything startNodes() made, removed: the node containers (their engines, tasks,
 * overlays and iptables chains end with their network namespaces), the registry, their
 * volumes, the network, the pushed tags, the sockets and the secrets' kept copies.
 */
export async function teardownNodes(log: (line: string) => void) {
  const state = readState<State>(STATE_FILE);
  if (!state) return;
  const made = host(["ps", "-aq", "--filter", `label=${LABEL}`]).out.split("\n").filter(Boolean);
  if (made.length) host(["rm", "-f", "-v", ...made], { allowFail: true });
  const volumes = host(["volume", "ls", "-q", "--filter", `label=${LABEL}`]).out.split("\n").filter(Boolean);
  if (volumes.length) host(["volume", "rm", ...volumes], { allowFail: true });
  host(["network", "rm", NETWORK], { allowFail: true });
  host(["rmi", ...IMAGES.map((i) => `${PUSH_REGISTRY}/${i}`)], { allowFail: true });
  rmSync(state.socketsDir, { recursive: true, force: true });
  rmSync(state.secretsDir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
  log(`the swarm's nodes, registry, network and volumes removed`);
}

/** What of the nodes remains on this machine: containers, volumes, network, its iptables rules, mounts. */
export function leftovers() {
  const list = (args: string[]) => host(args).out.split("\n").filter(Boolean);
  return {
    containers: list(["ps", "-aq", "--filter", `label=${LABEL}`]),
    volumes: list(["volume", "ls", "-q", "--filter", `label=${LABEL}`]),
    networks: list(["network", "ls", "-q", "--filter", `label=${LABEL}`]),
    iptables: sh(["iptables-save"], { allowFail: true }).out.split("\n").filter((l) => l.includes(BRIDGE)),
    mounts: readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) =>
      l.includes(PREFIX) || l.includes("bazaar-swarm-nodes-")
    ),
    images: list(["images", "-q", "--filter", `reference=${PUSH_REGISTRY}/*/*`]),
  };
}
