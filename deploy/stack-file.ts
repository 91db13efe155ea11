// deploy/stack.yaml is made from compose.yaml by this file, and deploy/stack.ha.yaml
// from compose.yaml with compose.ha.yaml (the replicated database), so neither can
// drift: `bun deploy/stack-file.ts` writes both, and stack-file.test.ts fails when a
// file differs from what this makes. Everything Swarm needs differently is decided
// here, once (deploy/README.md says why):
//   - images instead of `build` (Swarm builds nothing): ${REGISTRY}/bazaar-<target>;
//     the others as in compose, each replaceable by a variable named after the image
//     (HAPROXY_IMAGE, MYSQL_IMAGE, MARIADB_IMAGE, …);
//   - no `depends_on` (Swarm ignores it: every app waits for what it needs itself);
//   - `restart` becomes a restart policy; replicas, rolling updates and placement go
//     under `deploy`; every service is reached by DNS round robin (`endpoint_mode:
//     dnsrr`: this kernel has no IPVS for Swarm's virtual IPs), and the proxy's port is
//     published in host mode (the routing mesh needs IPVS too);
//   - Swarm's own secrets instead of the one-shot `secrets` service: each service gets
//     the same files compose's secrets volumes hold (lib/src/secrets/secrets.ts), at
//     /run/secrets/<file>; `bun deploy/secrets.ts` creates them;
//   - db/init.sql, db/accounts.sh and proxy/haproxy.cfg as Swarm configs (no bind
//     mounts: a task may run on another node than the file);
//   - the networks as overlays, the back ones still internal;
//   - the data and the one-replica services behind the web tier on the node labelled
//     bazaar.data=true, the proxy on a manager: a worker carries only web and admin tasks;
//   - each Galera node (a service with GALERA_NODE) on the node labelled
//     bazaar.galera=<its name>: one database node a machine, its volume there.
import path from "node:path";
import { parse, stringify } from "yaml";
import {
  CACHE,
  CONSUMERS,
  PROXY,
  REDIS,
  REDIS_CONF_FILE,
  REDIS_PASSWORD_FILE,
  REQUEST_ID_KEY_MAP_FILE,
  TOKENS_FILE,
} from "../lib/src/secrets/secrets.ts";

const ROOT = path.resolve(import.meta.dir, "..");
export const COMPOSE_FILE = path.join(ROOT, "compose.yaml");
export const STACK_FILE = path.join(ROOT, "deploy/stack.yaml");
/** The replicated database's override, and the stack made from compose.yaml with it. */
export const HA_FILE = path.join(ROOT, "compose.ha.yaml");
export const HA_STACK_FILE = path.join(ROOT, "deploy/stack.ha.yaml");

/** Where compose's secrets volumes are mounted, and where Swarm mounts secrets. */
const COMPOSE_SECRETS = "/run/bazaar-secrets/";
const SWARM_SECRETS = "/run/secrets/";
/** Every secret's name in Swarm: the stack's prefix, so two stacks on one swarm keep theirs apart. */
export const secretName = (file: string) => `bazaar_${file.replace(/\./g, "_")}`;

type Service = Record<string, unknown> & {
  build?: { target?: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: (string | { type: string; target: string })[];
  ports?: string[];
  networks?: string[];
  command?: string[];
  healthcheck?: { test?: string[]; [key: string]: unknown };
  deploy?: { replicas?: number | string };
  restart?: string;
};
type Compose = {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
  volumes: Record<string, unknown>;
};

/**
 * compose.yaml with an override file (compose.ha.yaml): its new services, networks and
 * volumes added, and a service it names replaced whole. Compose merges such a service
 * into the base's and cannot drop what the base mounts, so the override empties those
 * mounts with tmpfs; a stack file can simply leave them out, and does.
 */
export function withOverride(base: Compose, override: Partial<Compose>): Compose {
  const services = { ...base.services };
  for (const [name, svc] of Object.entries(override.services ?? {})) {
    const mountedByBase = new Set(
      (base.services[name]?.volumes ?? []).map((v) => typeof v === "string" ? v.split(":")[1] : v.target),
    );
    const volumes = svc.volumes?.filter((v) =>
      typeof v === "string" || v.type !== "tmpfs" || !mountedByBase.has(v.target)
    );
    services[name] = { ...svc, ...(volumes ? { volumes } : {}) };
  }
  return {
    services,
    networks: { ...base.networks, ...override.networks },
    volumes: { ...base.volumes, ...override.volumes },
  };
}

/**
 * The files in each of compose's secrets volumes (secrets-<folder>), by folder: a
 * service that mounts one gets the same files as Swarm's secrets.
 */
export const SECRET_FILES: Record<string, readonly string[]> = {
  ...CONSUMERS,
  [PROXY]: [REQUEST_ID_KEY_MAP_FILE],
  [REDIS]: [REDIS_CONF_FILE, REDIS_PASSWORD_FILE],
  [CACHE]: [TOKENS_FILE],
};

/** Our four app images: they run as distroless's nonroot (65532), so their secrets are theirs alone. */
const APP_USER = "65532";

/** A rolling update per service: a new task healthy before an old one stops, where two may run at once. */
const UPDATES: Record<string, "start-first" | "stop-first"> = {
  web: "start-first",
  admin: "start-first",
  api: "start-first",
  cache: "start-first",
  // Sessions and sign-in limits live in its memory: one at a time.
  "admin-api": "stop-first",
  // The published port (host mode) can be bound by one task a node; the data has one owner.
  proxy: "stop-first",
  db: "stop-first",
  redis: "stop-first",
};

/**
 * Pinned to the node holding the data (`docker node update --label-add bazaar.data=true
 * <node>`): db and redis, whose volume is there, and the one-replica services between
 * them and the web tier — api, admin-api, cache — which nothing in front of them retries:
 * moved with a node, each cost requests (web's pooled connections to the old task reset
 * or time out: deploy/README.md), so a worker's departure takes only web and admin tasks,
 * which HAProxy balances away from.
 */
export const DATA_SERVICES = new Set(["db", "redis", "api", "admin-api", "cache"]);

/**
 * The variable that replaces a third-party image, named after it: haproxy:2.8 is
 * HAPROXY_IMAGE, hiett/serverless-redis-http:latest SERVERLESS_REDIS_HTTP_IMAGE.
 */
export const imageVariable = (image: string) =>
  `${image.split("/").at(-1)!.split(/[:@]/)[0]!.toUpperCase().replace(/\W/g, "_")}_IMAGE`;

/** The node label that places a Galera node (compose.ha.yaml's db-1 …): one a machine. */
export const GALERA_LABEL = "bazaar.galera";

/** The compose values that name a secret's file, pointed at Swarm's. */
const swarmPaths = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value).replaceAll(COMPOSE_SECRETS, SWARM_SECRETS));

/**
 * A Galera node's health check on Swarm: its probe's GET /alive (the server answers)
 * instead of compose's GET / (Synced in the Primary Component). Swarm replaces an
 * unhealthy task, and a donor is not Synced while it copies the database to a joiner:
 * with compose's check, Swarm killed db-1 in the middle of db-2's first copy.
 */
function aliveCheck(name: string, check: NonNullable<Service["healthcheck"]>) {
  const test = check.test?.map((part) => part.replace("'GET / HTTP", "'GET /alive HTTP"));
  if (JSON.stringify(test) === JSON.stringify(check.test)) {
    throw new Error(
      `${name}: its health check does not ask the probe's GET /, which Swarm's asks /alive instead`,
    );
  }
  return { ...check, test };
}

/** The stack file's content for `compose`, a parsed compose.yaml. */
export function stackFromCompose(compose: Compose) {
  const services: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  const configs: Record<string, unknown> = {};
  for (const [name, svc] of Object.entries(compose.services)) {
    // The one-shot secrets service: Swarm's secrets replace it.
    if (svc.command?.includes("--init-secrets")) continue;
    const {
      build,
      image,
      restart,
      depends_on: _dependsOn,
      deploy,
      volumes = [],
      ports = [],
      hostname: _hostname,
      ...rest
    } = svc;
    const app = build !== undefined;
    const out: Record<string, unknown> = {
      // Ours from the registry; the others as compose pulls them, or from a mirror (MYSQL_IMAGE=…).
      image: app
        ? `\${REGISTRY:-127.0.0.1:5000}/bazaar-${build.target}:\${TAG:-latest}`
        : `\${${imageVariable(image!)}:-${image}}`,
      ...swarmPaths(rest),
      ...(rest.environment?.GALERA_NODE ? { healthcheck: aliveCheck(name, rest.healthcheck!) } : {}),
    };
    // Bind mounts become configs; volumes other than the secrets ones stay.
    const kept: Service["volumes"] = [];
    const mountedConfigs: { source: string; target: string }[] = [];
    let secretsFolder: string | undefined;
    for (const v of volumes) {
      if (typeof v !== "string") {
        kept.push(v);
        continue;
      }
      const [source, target] = v.split(":");
      if (source!.startsWith("secrets-")) {
        secretsFolder = source!.slice("secrets-".length);
        continue;
      }
      if (source!.startsWith("./")) {
        const config = `bazaar_${path.basename(source!).replace(/\W/g, "_")}`;
        configs[config] = { file: path.join("..", source!) };
        mountedConfigs.push({ source: config, target: target! });
      } else kept.push(v);
    }
    if (kept.length) out.volumes = kept;
    if (mountedConfigs.length) out.configs = mountedConfigs;
    const files = secretsFolder ? SECRET_FILES[secretsFolder] ?? [] : [];
    if (files.length) {
      out.secrets = files.map((file) => {
        secrets[secretName(file)] = { external: true };
        return {
          source: secretName(file),
          target: file === TOKENS_FILE ? `/app/srh-config/${file}` : file,
          ...(app ? { uid: APP_USER, gid: APP_USER, mode: 0o400 } : { mode: 0o444 }),
        };
      });
    }
    // Only the proxy is published, in host mode (no routing mesh without IPVS); the
    // web and admin replicas' debug ports are compose's alone.
    if (name === "proxy") {
      out.ports = ports.map((p) => {
        const [published, target] = p.replace(/"/g, "").split(/:(?=[^:]*$)/);
        return { target: Number(target), published: published, protocol: "tcp", mode: "host" };
      });
    }
    out.deploy = {
      ...(deploy?.replicas !== undefined ? { replicas: deploy.replicas } : { replicas: 1 }),
      endpoint_mode: "dnsrr",
      restart_policy: { condition: restart === "no" ? "none" : "any", delay: "1s", window: "10s" },
      update_config: {
        parallelism: 1,
        order: UPDATES[name] ?? "stop-first",
        delay: "2s",
        monitor: "10s",
        failure_action: "rollback",
      },
      rollback_config: { parallelism: 1, order: UPDATES[name] ?? "stop-first" },
      ...(rest.environment?.GALERA_NODE
        ? { placement: { constraints: [`node.labels.${GALERA_LABEL} == ${rest.environment.GALERA_NODE}`] } }
        : DATA_SERVICES.has(name)
        ? { placement: { constraints: ["node.labels.bazaar.data == true"] } }
        : name === "proxy"
        ? { placement: { constraints: ["node.role == manager"] } }
        : {}),
    };
    services[name] = out;
  }
  const networks = Object.fromEntries(
    Object.entries(compose.networks).map(([name, n]) => [name, { driver: "overlay", ...n }]),
  );
  // The named volumes a service of the stack mounts (not the secrets ones, nor one
  // only a replaced service mounted: compose.ha.yaml's db keeps no data).
  const mounted = new Set(
    Object.values(services).flatMap((svc) =>
      ((svc as Service).volumes ?? []).map((v) => typeof v === "string" ? v.split(":")[0]! : "")
    ),
  );
  const volumes = Object.fromEntries(
    Object.keys(compose.volumes).filter((v) => mounted.has(v)).map((v) => [v, {}]),
  );
  return { version: "3.9", services, networks, volumes, secrets, configs };
}

const header = (made: string) =>
  `# Bazaar on Docker Swarm: MADE FROM ${made} by deploy/stack-file.ts — do not edit;
# change ${made.replace(" with ", " or ")} (or the rules in deploy/stack-file.ts) and run
#   bun deploy/stack-file.ts
# deploy/README.md: build and push the images, create the secrets, deploy, scale, update.
# (Secret modes are in decimal: 256 is 0400, 292 is 0444.)
`;

const parseCompose = (text: string) => parse(text, { merge: true }) as Compose;

/** deploy/stack.yaml's text, from compose.yaml's; with an override's (compose.ha.yaml), deploy/stack.ha.yaml's. */
export function stackFileText(composeText: string, overrideText?: string) {
  const compose = overrideText === undefined
    ? parseCompose(composeText)
    : withOverride(parseCompose(composeText), parseCompose(overrideText));
  const made = overrideText === undefined ? "compose.yaml" : "compose.yaml with compose.ha.yaml";
  return header(made) + stringify(stackFromCompose(compose), { lineWidth: 0 });
}

if (import.meta.main) {
  const composeText = await Bun.file(COMPOSE_FILE).text();
  await Bun.write(STACK_FILE, stackFileText(composeText));
  await Bun.write(HA_STACK_FILE, stackFileText(composeText, await Bun.file(HA_FILE).text()));
  for (const file of [STACK_FILE, HA_STACK_FILE]) console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
