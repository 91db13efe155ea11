// DB_NODES=3: the database as a MariaDB Galera cluster of three local nodes, each in
// its own data dir with its own ports, and what the launcher decides before they
// start: which node bootstraps the cluster (the first start's node 1, later the most
// advanced by its recovered position), and each node's position for IST on a rejoin.
// The routing (HAProxy, one writer) and the probe are described in docs/internals.md.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { newSecret } from "@bazaar/lib/secrets/secrets.ts";
import { writeOwnerOnly } from "./files.ts";
import { tcpOpen } from "./health.ts";
import { type DbBins, type DbLayout, dbLayout, installSystemTables } from "./mariadb.ts";
import { HOST } from "./ports.ts";
import { isRoot } from "./system.ts";

/** Galera's provider, from Debian's galera-4. */
export const GALERA_PROVIDER = "/usr/lib/galera/libgalera_smm.so";

/**
 * Galera's failure detection, shortened from its 5 s suspicion: a killed writer's
 * survivors accept writes again about 2 s later instead of 6 (docs/internals.md).
 */
const EVS_TIMEOUTS =
  "evs.suspect_timeout=PT1S;evs.inactive_timeout=PT5S;evs.keepalive_period=PT0.2S;evs.inactive_check_period=PT0.2S;evs.install_timeout=PT5S";

/**
 * A node's ports, by one rule from the database's port: node n on DB_PORT + 10n
 * (3316, 3326, 3336), its gcomm, IST, SST and probe ports the next four.
 *
 * @example nodePorts(3306, 2) // { sql: 3326, gcomm: 3327, ist: 3328, sst: 3329, probe: 3330 }
 */
export const nodePorts = (dbPort: number, n: number) => {
  const sql = dbPort + 10 * n;
  return { sql, gcomm: sql + 1, ist: sql + 2, sst: sql + 3, probe: sql + 4 };
};

/** The nodes' names: db-1 … db-N. */
export const nodeNames = (nodes: number) => Array.from({ length: nodes }, (_, i) => `db-${i + 1}` as const);

/** The cluster's files in the stack's data dir: a dir per node, and the marker of a finished first load. */
export const galeraDir = (dataDir: string) => path.join(dataDir, "galera");

/**
 * Node n's layout: its own data dir and socket; the "seeded" marker is the cluster's
 * (a joiner's data dir is replaced by its state transfer).
 */
export function nodeLayout(dataDir: string, n: number): DbLayout & { conf: string } {
  const own = dbLayout(path.join(galeraDir(dataDir), `db-${n}`));
  return {
    ...own,
    seeded: path.join(galeraDir(dataDir), ".bazaar-seeded"),
    conf: path.join(own.dir, "..", "my.cnf"),
  };
}

/** The account state transfers (mariabackup) and the probes log in with; its password is kept in the data dir. */
export function galeraAccount(dataDir: string) {
  const file = path.join(galeraDir(dataDir), "account.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as { user: string; password: string };
  const account = { user: "bazaar_galera", password: newSecret("api_db_password") };
  writeOwnerOnly(path.dirname(file), path.basename(file), JSON.stringify(account) + "\n");
  return account;
}

/** The SQL that creates that account, on the bootstrapping node (it replicates). */
export const galeraAccountSql = (a: { user: string; password: string }) =>
  `CREATE USER IF NOT EXISTS '${a.user}'@'localhost' IDENTIFIED BY '${a.password}';\n` +
  `ALTER USER '${a.user}'@'localhost' IDENTIFIED BY '${a.password}';\n` +
  `GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO '${a.user}'@'localhost';\n`;

/**
 * Node n's configuration file. A file rather than arguments: the state transfer
 * scripts (mariabackup) read the server's options from it.
 */
export function nodeConf(dataDir: string, dbPort: number, nodes: number, n: number): string {
  const db = nodeLayout(dataDir, n);
  const p = nodePorts(dbPort, n);
  const account = galeraAccount(dataDir);
  const members = Array.from({ length: nodes }, (_, i) => `${HOST}:${nodePorts(dbPort, i + 1).gcomm}`);
  return [
    "[mysqld]",
    `datadir=${db.dir}`,
    `socket=${db.socket}`,
    `pid-file=${db.pidFile}`,
    `port=${p.sql}`,
    `bind-address=${HOST}`,
    ...(isRoot() ? ["user=root"] : []),
    "skip-name-resolve",
    "innodb_flush_log_at_trx_commit=1",
    "character-set-server=utf8mb4",
    "collation-server=utf8mb4_unicode_ci",
    "max-connections=500",
    "log-warnings=1",
    // Galera: row events, interleaved auto-increment locks, and order numbers that
    // stay dense (0, 1, 2 …) whichever node writes: one writer at a time, no offsets.
    "binlog_format=ROW",
    "innodb_autoinc_lock_mode=2",
    "wsrep_on=ON",
    `wsrep_provider=${GALERA_PROVIDER}`,
    "wsrep_cluster_name=bazaar",
    `wsrep_node_name=db-${n}`,
    `wsrep_node_address=${HOST}:${p.gcomm}`,
    `wsrep_cluster_address=gcomm://${members.join(",")}`,
    `wsrep_provider_options="gmcast.listen_addr=tcp://${HOST}:${p.gcomm};ist.recv_addr=${HOST}:${p.ist};${EVS_TIMEOUTS}"`,
    `wsrep_sst_receive_address=${HOST}:${p.sst}`,
    // A donor is Desynced while it sends (even IST), so its probe fails: ask the
    // backups last in HAProxy's order first, never the writer while another will do
    // (the trailing comma: any node if none of these can).
    `wsrep_sst_donor=${donorPreference(nodes, n).join(",")},`,
    // rsync's daemon fails as root here ("Permission denied"); mariabackup works.
    "wsrep_sst_method=mariabackup",
    `wsrep_sst_auth=${account.user}:${account.password}`,
    "wsrep_auto_increment_control=OFF",
    "auto_increment_increment=1",
    "auto_increment_offset=1",
    "",
  ].join("\n");
}

/** Writes node n's configuration, owner only: it holds the state transfer account's password. */
const writeNodeConf = (dataDir: string, dbPort: number, nodes: number, n: number) => {
  const conf = nodeLayout(dataDir, n).conf;
  writeOwnerOnly(path.dirname(conf), path.basename(conf), nodeConf(dataDir, dbPort, nodes, n));
};

/**
 * The nodes node n asks for a state transfer, in order: the others from the last,
 * since HAProxy's writer is the first healthy one.
 *
 * @example donorPreference(3, 1) // ["db-3", "db-2"]
 */
export const donorPreference = (nodes: number, n: number) =>
  nodeNames(nodes).filter((name) => name !== `db-${n}`).reverse();

/** Writes node n's configuration and, the first time, its system tables. */
export async function prepareNode(
  bins: DbBins,
  dataDir: string,
  dbPort: number,
  nodes: number,
  n: number,
  log: (line: string) => void,
) {
  const db = nodeLayout(dataDir, n);
  mkdirSync(db.dir, { recursive: true });
  writeNodeConf(dataDir, dbPort, nodes, n);
  if (existsSync(path.join(db.dir, "mysql"))) return;
  log(`creating node db-${n}'s system tables in ${db.dir}`);
  await installSystemTables(bins, db.dir);
}

/** A node's last committed position, from grastate.dat or InnoDB. */
export type Position = { uuid: string; seqno: number };

/**
 * The position in "Recovered position: uuid:seqno", as `mariadbd --wsrep-recover` logs it.
 *
 * @example recoveredPosition("… WSREP: Recovered position: 1c0e…:42") // { uuid: "1c0e…", seqno: 42 }
 */
export function recoveredPosition(log: string): Position | undefined {
  const m = log.match(/Recovered position:\s*([0-9a-f-]+):(-?\d+)/);
  return m ? { uuid: m[1]!, seqno: Number(m[2]) } : undefined;
}

/** Node n's position as InnoDB recovers it (about 0.1 s; undefined with no data yet). */
export async function recoverNode(bins: DbBins, dataDir: string, n: number): Promise<Position | undefined> {
  const db = nodeLayout(dataDir, n);
  if (!existsSync(path.join(db.dir, "mysql")) || !existsSync(db.conf)) return undefined;
  const p = Bun.spawn([bins.mariadbd, `--defaults-file=${db.conf}`, "--wsrep-recover"], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return recoveredPosition(out + err);
}

/** Marks node n's grastate.dat safe to bootstrap from (Galera refuses otherwise after a clean stop of all). */
export function markSafeToBootstrap(dataDir: string, n: number) {
  const file = path.join(nodeLayout(dataDir, n).dir, "grastate.dat");
  if (!existsSync(file)) return;
  writeFileSync(file, readFileSync(file, "utf8").replace(/safe_to_bootstrap:\s*0/, "safe_to_bootstrap: 1"));
}

/**
 * Which node bootstraps: on the first start (no marker) node 1, from scratch; later
 * the most advanced by its recovered position (the lowest-numbered on a tie). One
 * rule for both ways a whole cluster stops: after a kill of all, and after a clean
 * stop (every grastate.dat then says safe_to_bootstrap: 0).
 *
 * @example chooseBootstrap([{ uuid: "u", seqno: 7 }, { uuid: "u", seqno: 9 }, undefined]) // 2
 */
export function chooseBootstrap(positions: readonly (Position | undefined)[]): number {
  let best = 0;
  positions.forEach((p, i) => {
    if ((p?.seqno ?? -1) > (positions[best]?.seqno ?? -1)) best = i;
  });
  return best + 1;
}

/**
 * Before the stack starts its nodes: a half-loaded first start is wiped, and the node
 * that will bootstrap is chosen, so that it starts first (decideStart, at its start,
 * comes to the same choice by the same rule, and marks it safe to bootstrap).
 */
export async function planCluster(
  bins: DbBins,
  dataDir: string,
  dbPort: number,
  nodes: number,
  log: (line: string) => void,
): Promise<number> {
  if (!existsSync(nodeLayout(dataDir, 1).seeded)) {
    for (const name of nodeNames(nodes)) {
      rmSync(path.join(galeraDir(dataDir), name), { recursive: true, force: true });
    }
    return 1;
  }
  const positions = [];
  for (let n = 1; n <= nodes; n++) {
    if (existsSync(nodeLayout(dataDir, n).dir)) writeNodeConf(dataDir, dbPort, nodes, n);
    positions.push(await recoverNode(bins, dataDir, n));
  }
  const chosen = chooseBootstrap(positions);
  log(
    `galera: recovered positions ${
      positions.map((p, i) => `db-${i + 1} ${p ? p.seqno : "none"}`).join(", ")
    }: db-${chosen} bootstraps`,
  );
  return chosen;
}

/** What node i's probe says of it: in a Primary Component, not in one, or no answer. */
async function primaryState(dbPort: number, i: number): Promise<"primary" | "not primary" | "no answer"> {
  try {
    const res = await fetch(`http://${HOST}:${nodePorts(dbPort, i).probe}/`, {
      signal: AbortSignal.timeout(1000),
    });
    return /\/ Primary\s*$/.test(await res.text()) ? "primary" : "not primary";
  } catch {
    return "no answer";
  }
}

/**
 * One stack's node starts: one decides at a time, and holds the turn until its
 * process has opened its gcomm port (or 15 s passed), so no start takes a node that
 * is coming up for one that is down. Each node's position as it last started is kept
 * for the decisions of the others (a running node's data dir cannot be recovered).
 */
export class NodeStarts {
  private turn: Promise<void> = Promise.resolve();
  readonly positions = new Map<number, Position | undefined>();

  /** Waits for the turn; `release(whenUp)` hands it on once `whenUp` settles. */
  async take(): Promise<(whenUp: Promise<unknown>) => void> {
    let hand!: () => void;
    const previous = this.turn;
    this.turn = new Promise((resolve) => (hand = resolve));
    await previous;
    return (whenUp) => void whenUp.finally(hand);
  }
}

/**
 * How node n starts: it joins when another node is in a Primary Component (or may be:
 * its gcomm port is open but its probe does not answer). When none is — the first
 * start, the last node of a cluster, or all of them crashed at once — only the most
 * advanced node bootstraps (chooseBootstrap over the positions of them all); the
 * others start as joiners, which wait for it (and exit after pc.wait_prim_timeout, to
 * be restarted and decide again). Never two bootstraps: that would be two clusters.
 */
export async function decideStart(
  bins: DbBins,
  dataDir: string,
  dbPort: number,
  nodes: number,
  n: number,
  starts: NodeStarts,
): Promise<{ bootstrap: boolean; position: Position | undefined; positions: (Position | undefined)[] }> {
  const position = await recoverNode(bins, dataDir, n);
  starts.positions.set(n, position);
  const positions: (Position | undefined)[] = [];
  let cluster = false;
  for (let i = 1; i <= nodes; i++) {
    if (i === n) {
      positions.push(position);
      continue;
    }
    const state = await primaryState(dbPort, i);
    const running = await tcpOpen(HOST, nodePorts(dbPort, i).gcomm, 300);
    if (state === "primary" || (running && state === "no answer")) cluster = true;
    positions.push(running ? starts.positions.get(i) : await recoverNode(bins, dataDir, i));
  }
  return { bootstrap: !cluster && chooseBootstrap(positions) === n, position, positions };
}

/** Resolves once node n's gcomm port is open, or after `ms`. */
export async function gcommOpen(dbPort: number, n: number, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !(await tcpOpen(HOST, nodePorts(dbPort, n).gcomm, 200))) {
    await Bun.sleep(100);
  }
}

/**
 * The data tier's HAProxy: proxy/galera.cfg (compose.ha.yaml's too) with the local
 * addresses — DB_PORT in TCP mode on 127.0.0.1, each node's SQL port and its probe's.
 * One writer at a time: node 1 while it is healthy, else the first healthy backup;
 * sessions on a node marked down are cut, and when a node earlier in that order comes
 * back, those on the backups are cut too, so there are never two writers.
 *
 * @example dataHaproxyEnv(3306, 3).DB2_ADDR // "127.0.0.1:3326"
 */
export function dataHaproxyEnv(dbPort: number, nodes: number): Record<string, string> {
  const env: Record<string, string> = { DB_BIND: `${HOST}:${dbPort}` };
  for (let n = 1; n <= nodes; n++) {
    const p = nodePorts(dbPort, n);
    env[`DB${n}_ADDR`] = `${HOST}:${p.sql}`;
    env[`DB${n}_PROBE`] = String(p.probe);
  }
  return env;
}
