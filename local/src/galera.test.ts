import { describe, expect, test } from "bun:test";
import { chooseBootstrap, dataHaproxyEnv, donorPreference, nodePorts, recoveredPosition } from "./galera.ts";
import { resolveDbNodes } from "./config.ts";
import { serviceNames } from "./services.ts";

describe("galera", () => {
  test("node n's ports follow DB_PORT + 10n, its gcomm, IST, SST and probe ports the next four", () => {
    expect(nodePorts(3306, 1)).toEqual({ sql: 3316, gcomm: 3317, ist: 3318, sst: 3319, probe: 3320 });
    expect(nodePorts(5306, 3).probe).toBe(5340);
  });

  test("the position --wsrep-recover logs is read; none when it logs none", () => {
    const uuid = "2732c7c1-f223-11f1-87e5-924701d74566";
    expect(recoveredPosition(`… [Note] WSREP: Recovered position: ${uuid}:2821\n`)).toEqual({
      uuid,
      seqno: 2821,
    });
    expect(recoveredPosition("[Note] InnoDB: nothing")).toBeUndefined();
  });

  test("a node asks the last backups for a state transfer first, the writer (db-1) last", () => {
    expect(donorPreference(3, 1)).toEqual(["db-3", "db-2"]);
    expect(donorPreference(3, 2)).toEqual(["db-3", "db-1"]);
    expect(donorPreference(3, 3)).toEqual(["db-2", "db-1"]);
  });

  test("the most advanced node bootstraps, the lowest-numbered on a tie", () => {
    const at = (seqno: number) => ({ uuid: "u", seqno });
    expect(chooseBootstrap([at(7), at(9), undefined])).toBe(2);
    expect(chooseBootstrap([at(9), at(9), at(9)])).toBe(1);
    expect(chooseBootstrap([undefined, undefined, at(-1)])).toBe(1);
  });

  test("the data tier's HAProxy: proxy/galera.cfg with the nodes' local SQL and probe ports", () => {
    expect(dataHaproxyEnv(3306, 3)).toEqual({
      DB_BIND: "127.0.0.1:3306",
      DB1_ADDR: "127.0.0.1:3316",
      DB1_PROBE: "3320",
      DB2_ADDR: "127.0.0.1:3326",
      DB2_PROBE: "3330",
      DB3_ADDR: "127.0.0.1:3336",
      DB3_PROBE: "3340",
    });
  });

  test("DB_NODES: 1 by default, or 3; nothing else", () => {
    expect(resolveDbNodes(undefined, {})).toBe(1);
    expect(resolveDbNodes(undefined, { DB_NODES: "3" })).toBe(3);
    expect(() => resolveDbNodes(undefined, { DB_NODES: "2" })).toThrow("DB_NODES: 1 or 3, not 2");
  });

  test("with three nodes: the bootstrap node first, the others after it, the probes, then the data tier's proxy as db", () => {
    const names = serviceNames({ web: 1, admin: 1 }, 3, 2);
    expect(names.indexOf("db-2")).toBeLessThan(names.indexOf("db-1"));
    expect(names.indexOf("db-1")).toBeLessThan(names.indexOf("db-3"));
    expect(names.indexOf("db-probe-3")).toBeLessThan(names.indexOf("db"));
    expect(names.indexOf("db")).toBeLessThan(names.indexOf("api"));
    // The default stack is as it was: one db, no nodes, no probes.
    expect(serviceNames({ web: 1, admin: 1 }).filter((n) => n.startsWith("db"))).toEqual(["db"]);
  });
});
