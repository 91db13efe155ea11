// compose.ha.yaml, the Galera variant, merged into compose.yaml as Docker Compose
// merges an override (the parts it uses): the data tier's HAProxy under the name db,
// three nodes behind it, and the rule that each tier sees only the tiers it calls.
// tests/docker/galera.test.ts runs it on a real engine.
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import {
  type Compose,
  haproxyActiveLines,
  haproxyServers,
  hostRefs,
  loadCompose,
  mounts,
  reach,
  read,
  ROOT,
  type Service,
  standinChanges,
} from "./support.ts";

const NODES = ["db-1", "db-2", "db-3"];
const GALERA_CFG = read("proxy/galera.cfg");

type Override = { services: Record<string, Service & { stop_grace_period?: string; entrypoint?: string[] }> };

/** compose.yaml with compose.ha.yaml over it: mappings merged, networks joined, mounts replaced by their path. */
function merged(): Compose {
  const base = loadCompose();
  const ha = parse(read("compose.ha.yaml"), { merge: true }) as Override & Compose;
  const target = (v: string | { target: string }) => (typeof v === "string" ? v.split(":")[1]! : v.target);
  for (const [name, o] of Object.entries(ha.services)) {
    const s = base.services[name] ?? {};
    const volumes = [...(s.volumes ?? []), ...(o.volumes ?? [])] as (string | { target: string })[];
    base.services[name] = {
      ...s,
      ...o,
      environment: { ...s.environment, ...o.environment },
      depends_on: { ...s.depends_on, ...o.depends_on },
      networks: [...new Set([...(s.networks ?? []), ...(o.networks ?? [])])],
      volumes: volumes.filter((v, i) =>
        !volumes.slice(i + 1).some((w) => target(w) === target(v))
      ) as string[],
    };
  }
  base.networks = { ...base.networks, ...ha.networks };
  base.volumes = { ...base.volumes, ...ha.volumes };
  return base;
}

const compose = merged();
const ha = parse(read("compose.ha.yaml"), { merge: true }) as Override;

/** Who connects to whom: compose.yaml's apps as before, db's servers from galera.cfg, each node to the others. */
function refs() {
  const out: { from: string; host: string }[] = [];
  for (const name of Object.keys(compose.services)) {
    if (name === "db") {
      for (const s of haproxyServers({}, GALERA_CFG)) {
        out.push({ from: name, host: s.address.split(":")[0]! });
      }
    } else if (NODES.includes(name)) {
      for (const n of compose.services[name]!.environment!.GALERA_NODES!.split(",")) {
        if (n !== name) out.push({ from: name, host: n });
      }
    } else out.push(...hostRefs(compose, name));
  }
  return out;
}

describe("compose.ha.yaml over compose.yaml", () => {
  test("db becomes the data tier's HAProxy on proxy/galera.cfg; none of MySQL's mounts is left in it", () => {
    const db = compose.services.db!;
    expect(db.image).toMatch(/^haproxy:/);
    // No data volume, no secret: what compose.yaml mounted is an empty tmpfs now.
    const volumes = (db.volumes ?? []) as (string | { type: string; target: string })[];
    expect(volumes.filter((v) => typeof v === "string")).toEqual([
      "./proxy/galera.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro,z",
    ]);
    expect(volumes.every((v) => typeof v === "string" || v.type === "tmpfs")).toBe(true);
    const before = mounts(loadCompose().services.db!).map((m) => m.target);
    expect(volumes.flatMap((v) => (typeof v === "string" ? [] : [v.target])).sort()).toEqual(before.sort());
    // The APIs are unchanged: they still ask db.
    for (const api of ["api", "admin-api"]) expect(compose.services[api]!.environment!.DB_HOST).toBe("db");
  });

  test("three nodes, each its own data volume; only db-1 loads the schema and reads secrets", () => {
    for (const name of NODES) {
      const s = compose.services[name]!;
      expect({ name, hostname: s.hostname, node: s.environment!.GALERA_NODE }).toEqual({
        name,
        hostname: name,
        node: name,
      });
      expect(s.environment!.GALERA_NODES).toBe(NODES.join(","));
      expect(mounts(s).find((m) => m.target === "/var/lib/mysql")?.source).toBe(`${name}-data`);
      const secrets = mounts(s).some((m) => m.target === "/run/bazaar-secrets");
      const seeds = mounts(s).some((m) => m.target.startsWith("/docker-entrypoint-initdb.d/"));
      expect({ name, secrets, seeds }).toEqual({ name, secrets: name === "db-1", seeds: name === "db-1" });
    }
  });

  test("a node's stop has time to end cleanly (compose's 10 s would end it in SIGKILL), and it restarts by itself", () => {
    for (const name of NODES) {
      const s = ha.services[name]!;
      const m = /^(\d+)(s|m)$/.exec(s.stop_grace_period ?? "")!;
      expect(Number(m[1]) * (m[2] === "m" ? 60 : 1)).toBeGreaterThanOrEqual(60);
      expect(s.restart).toBe("unless-stopped");
      expect(s.entrypoint).toEqual(["bash", "/usr/local/lib/bazaar-galera/node.sh"]);
    }
  });

  test("the networks: the APIs reach db only, db the APIs and the nodes, a node the others and db; all internal, nothing published", () => {
    const talks = refs();
    for (const name of ["db", ...NODES, "api", "admin-api"]) {
      const calls = new Set(
        talks.flatMap((r) => (r.from === name ? [r.host] : r.host === name ? [r.from] : [])),
      );
      const seen = [...reach(compose, name)].filter((o) => !["cache", "web", "admin"].includes(o));
      const expected = [...calls].filter((o) => !["cache", "web", "admin"].includes(o));
      expect({ name, reaches: seen.sort() }).toEqual({ name, reaches: expected.sort() });
    }
    expect([...reach(compose, "db")].sort()).toEqual(["admin-api", "api", ...NODES]);
    expect(compose.networks.galera).toEqual({ internal: true });
    for (const name of ["db", ...NODES]) expect(compose.services[name]!.ports ?? []).toEqual([]);
  });
});

describe("proxy/galera.cfg", () => {
  const check = (env: Record<string, string>) =>
    Bun.spawnSync(["haproxy", "-c", "-f", `${ROOT}/proxy/galera.cfg`], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
  const LOCAL = {
    DB_BIND: "127.0.0.1:3306",
    DB1_ADDR: "127.0.0.1:3316",
    DB2_ADDR: "127.0.0.1:3326",
    DB3_ADDR: "127.0.0.1:3336",
    DB1_PROBE: "3320",
    DB2_PROBE: "3330",
    DB3_PROBE: "3340",
  };

  for (const [way, env] of [["compose", {}], ["local", LOCAL]] as const) {
    test(`${way}: haproxy -c accepts it; one writer, the others backup, sessions cut on every change of writer`, () => {
      expect(check(env).exitCode).toBe(0);
      const servers = haproxyActiveLines(env, GALERA_CFG).filter((l) => /^\s*server\s/.test(l));
      expect(servers.map((l) => l.trim().split(/\s+/)[1])).toEqual(NODES);
      expect(servers.map((l) => /\sbackup\b/.test(l))).toEqual([false, true, true]);
      expect(servers.map((l) => /on-marked-up shutdown-backup-sessions/.test(l))).toEqual([
        true,
        true,
        false,
      ]);
      expect(servers.every((l) => /\scheck port \S+/.test(l))).toBe(true);
      expect(GALERA_CFG).toMatch(/default-server .*on-marked-down shutdown-sessions/);
    });
  }

  test("compose: the nodes' SQL port and their probe's, where the APIs' DB_PORT expects it", () => {
    expect(haproxyServers({}, GALERA_CFG).map((s) => s.address)).toEqual(NODES.map((n) => `${n}:3306`));
    expect(GALERA_CFG).toContain('bind "${DB_BIND-*:3306}"');
    expect(compose.services.api!.environment!.DB_PORT).toBe("3306");
  });
});

describe("db/galera/galera.cnf", () => {
  const cnf = read("db/galera/galera.cnf");
  test("the issue's settings, as the local cluster's", () => {
    for (
      const line of [
        "wsrep_auto_increment_control=OFF",
        "auto_increment_increment=1",
        "binlog_format=ROW",
        "innodb_flush_log_at_trx_commit=1",
        "innodb_autoinc_lock_mode=2",
        "wsrep_sst_method=mariabackup",
      ]
    ) expect(cnf.split("\n")).toContain(line);
    expect(cnf).toContain("evs.suspect_timeout=PT1S");
  });
});

// compose.replicas.yaml's stand-ins too: tests/docker/galera.test.ts runs both files.
describe("the compose pass's stand-ins for the override files (tests/docker/standin/)", () => {
  for (const file of ["compose.ha.yaml", "compose.replicas.yaml"]) {
    const standinFile = `tests/docker/standin/${file.replace(".yaml", ".standin.yaml")}`;
    test(`${standinFile} changes only \`image:\`, of each image ${file} pulls, to a stand-in`, () => {
      const { covered, pulled, changes } = standinChanges(standinFile, file);
      expect(covered).toEqual(pulled);
      for (const c of changes) {
        expect(c).toEqual({
          name: c.name,
          keys: ["image"],
          image: expect.stringMatching(/^bazaar-standin\//),
        });
      }
    });
  }
});
