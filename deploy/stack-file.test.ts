import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import {
  COMPOSE_FILE,
  DATA_SERVICES,
  GALERA_LABEL,
  HA_FILE,
  HA_STACK_FILE,
  imageVariable,
  STACK_FILE,
  stackFileText,
} from "./stack-file.ts";

type Svc = {
  image: string;
  build?: unknown;
  depends_on?: unknown;
  ports?: { mode: string }[];
  secrets?: { source: string; target: string }[];
  volumes?: (string | object)[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  deploy: { endpoint_mode: string; placement?: { constraints: string[] } };
};
type Stack = {
  version: string;
  services: Record<string, Svc>;
  networks: Record<string, { driver: string; internal?: boolean }>;
  volumes: Record<string, unknown>;
};
const read = (file: string) => readFileSync(file, "utf8");
const composeText = read(COMPOSE_FILE);
const haText = read(HA_FILE);
type ComposeNetworks = { networks: Record<string, { internal?: boolean }> };
const compose = parse(composeText) as ComposeNetworks;
const ha = parse(haText) as ComposeNetworks;

const STACKS = [
  {
    file: "deploy/stack.yaml",
    stack: parse(read(STACK_FILE)) as Stack,
    text: () => read(STACK_FILE),
    made: () => stackFileText(composeText),
    networks: compose.networks,
  },
  {
    file: "deploy/stack.ha.yaml",
    stack: parse(read(HA_STACK_FILE)) as Stack,
    text: () => read(HA_STACK_FILE),
    made: () => stackFileText(composeText, haText),
    networks: { ...compose.networks, ...ha.networks },
  },
];

describe.each(STACKS)("$file", ({ stack, text, made, networks }) => {
  test("is what deploy/stack-file.ts makes (run `bun deploy/stack-file.ts` after changing compose.yaml or compose.ha.yaml)", () => {
    expect(text()).toBe(made());
  });

  test("is a schema 3.x file, as Docker 20.10's stack deploy reads", () => {
    expect(stack.version).toMatch(/^3\.\d+$/);
  });

  test("builds nothing and orders nothing: Swarm ignores both", () => {
    for (const [name, svc] of Object.entries(stack.services)) {
      expect({ name, build: svc.build, depends_on: svc.depends_on }).toEqual({
        name,
        build: undefined,
        depends_on: undefined,
      });
      expect(svc.image, name).toBeTruthy();
    }
  });

  test("every service by DNS round robin, the proxy's port in host mode (no IPVS here)", () => {
    for (const [name, svc] of Object.entries(stack.services)) {
      expect({ name, mode: svc.deploy.endpoint_mode }).toEqual({ name, mode: "dnsrr" });
      for (const port of svc.ports ?? []) expect({ name, mode: port.mode }).toEqual({ name, mode: "host" });
    }
    expect(Object.keys(stack.services).filter((n) => stack.services[n]!.ports)).toEqual(["proxy"]);
  });

  test("the same networks as compose, as overlays, the back ones internal", () => {
    expect(Object.keys(stack.networks)).toEqual(Object.keys(networks));
    for (const [name, n] of Object.entries(stack.networks)) {
      expect({ name, driver: n.driver, internal: n.internal }).toEqual({
        name,
        driver: "overlay",
        internal: networks[name]!.internal,
      });
    }
  });

  test("declares exactly the volumes its services mount, and no secrets volume", () => {
    const mounted = Object.values(stack.services).flatMap((svc) =>
      (svc.volumes ?? []).filter((v) => typeof v === "string").map((v) => v.split(":")[0]!)
    ).filter((v) => !v.startsWith("/"));
    expect(Object.keys(stack.volumes).sort()).toEqual([...new Set(mounted)].sort());
  });

  test("every secret file a service names is one Swarm mounts for it, and none it does not read", () => {
    for (const [name, svc] of Object.entries(stack.services)) {
      const { secrets: _, ...rest } = svc;
      const named = new Set(
        [...JSON.stringify(rest).matchAll(/\/run\/secrets\/([\w.]+)/g)].map((m) => m[1]!),
      );
      const mounted = new Set((svc.secrets ?? []).map((s) => s.target).filter((t) => !t.startsWith("/")));
      expect({ name, files: [...named].sort() }).toEqual({ name, files: [...mounted].sort() });
    }
  });

  test("a worker carries only web and admin, and Galera nodes: the rest on the data node, the proxy on a manager", () => {
    const placed = Object.fromEntries(
      Object.entries(stack.services).map(([name, svc]) => [name, svc.deploy.placement?.constraints ?? []]),
    );
    expect(Object.keys(placed).filter((n) => !placed[n]!.length).sort()).toEqual(["admin", "web"]);
    for (const name of DATA_SERVICES) expect(placed[name]).toEqual(["node.labels.bazaar.data == true"]);
    expect(placed.proxy).toEqual(["node.role == manager"]);
  });
});

describe("deploy/stack.ha.yaml", () => {
  const stack = STACKS[1]!.stack;
  const nodes = Object.entries(stack.services).filter(([, svc]) => svc.environment?.GALERA_NODE);

  test("replaces MySQL with compose.ha.yaml's data tier: HAProxy under the name db, three Galera nodes", () => {
    expect(stack.services.db!.image).toBe("${HAPROXY_IMAGE:-haproxy:2.8}");
    expect(nodes.map(([name]) => name)).toEqual(["db-1", "db-2", "db-3"]);
    for (const [, svc] of nodes) expect(svc.image).toBe("${MARIADB_IMAGE:-mariadb:10.11}");
    // Nothing left of compose.yaml's MySQL: no data volume, none of the tmpfs that emptied its mounts.
    expect(stack.volumes["db-data"]).toBeUndefined();
    expect(stack.services.db!.volumes).toBeUndefined();
  });

  test("each Galera node on the machine labelled with its name: one a machine, its volume there", () => {
    for (const [name, svc] of nodes) {
      expect({ name, constraints: svc.deploy.placement?.constraints }).toEqual({
        name,
        constraints: [`node.labels.${GALERA_LABEL} == ${name}`],
      });
      expect(svc.volumes).toContain(`${name}-data:/var/lib/mysql`);
    }
  });

  test("a Galera node's health on Swarm is that its server answers: Swarm replaces unhealthy tasks, and a donor is busy", () => {
    for (const [name, svc] of nodes) {
      expect({ name, check: JSON.stringify(svc.healthcheck) }).toEqual({
        name,
        check: expect.stringContaining("GET /alive HTTP"),
      });
    }
  });

  test("the first node gets the database's secrets, as compose's secrets-db volume gives them", () => {
    expect(stack.services["db-1"]!.secrets?.map((s) => s.target).sort()).toEqual(
      ["admin_db_password", "api_db_password", "mysql_root_password"],
    );
    expect(stack.services["db-2"]!.secrets).toBeUndefined();
  });
});

describe("imageVariable", () => {
  test("names the variable after the image, so one image is replaced by one variable in every stack", () => {
    expect(imageVariable("haproxy:2.8")).toBe("HAPROXY_IMAGE");
    expect(imageVariable("hiett/serverless-redis-http:latest")).toBe("SERVERLESS_REDIS_HTTP_IMAGE");
    expect(imageVariable("registry:5000/mariadb")).toBe("MARIADB_IMAGE");
  });
});
