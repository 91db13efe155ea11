import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { COMPOSE_FILE, DATA_SERVICES, STACK_FILE, stackFileText } from "./stack-file.ts";

type Svc = {
  image: string;
  build?: unknown;
  depends_on?: unknown;
  ports?: { mode: string }[];
  secrets?: { source: string; target: string }[];
  deploy: { endpoint_mode: string; placement?: { constraints: string[] } };
};
const stack = parse(readFileSync(STACK_FILE, "utf8")) as {
  version: string;
  services: Record<string, Svc>;
  networks: Record<string, { driver: string; internal?: boolean }>;
};
const compose = parse(readFileSync(COMPOSE_FILE, "utf8")) as {
  networks: Record<string, { internal?: boolean }>;
};

describe("deploy/stack.yaml", () => {
  test("is what deploy/stack-file.ts makes from compose.yaml (run `bun deploy/stack-file.ts` after changing either)", () => {
    expect(readFileSync(STACK_FILE, "utf8")).toBe(stackFileText(readFileSync(COMPOSE_FILE, "utf8")));
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

  test("the same networks as compose.yaml, as overlays, the back ones internal", () => {
    expect(Object.keys(stack.networks)).toEqual(Object.keys(compose.networks));
    for (const [name, n] of Object.entries(stack.networks)) {
      expect({ name, driver: n.driver, internal: n.internal }).toEqual({
        name,
        driver: "overlay",
        internal: compose.networks[name]!.internal,
      });
    }
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

  test("a worker carries only web and admin: the rest on the data node, the proxy on a manager", () => {
    const placed = Object.fromEntries(
      Object.entries(stack.services).map(([name, svc]) => [name, svc.deploy.placement?.constraints ?? []]),
    );
    expect(Object.keys(placed).filter((n) => !placed[n]!.length).sort()).toEqual(["admin", "web"]);
    for (const name of DATA_SERVICES) expect(placed[name]).toEqual(["node.labels.bazaar.data == true"]);
    expect(placed.proxy).toEqual(["node.role == manager"]);
  });
});
