// One Galera node's health for HAProxy (DB_NODES=3): GET / answers 200 only while the
// node is Synced in the Primary Component, 503 otherwise (a joiner, a donor, a node
// cut off from the others, or one that does not answer). Debian packages no such
// check. Run by the launcher as db-probe-<n>, one beside each node:
//
//   PROBE_PORT=3320 DB_SOCKET=… DB_USER=… DB_PASSWORD=… bun local/src/galera-probe.ts
import mysql from "mysql2/promise";

const port = Number(process.env.PROBE_PORT);
const connection = {
  socketPath: process.env.DB_SOCKET,
  user: process.env.DB_USER,
  password: process.env.DB_PASSWORD,
  connectTimeout: 1000,
};

let conn: mysql.Connection | undefined;

/** The node's wsrep state, over one connection kept open (made again after an error). */
async function synced(): Promise<{ ok: boolean; state: string }> {
  try {
    conn ??= await mysql.createConnection(connection);
    const [rows] = await conn.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status')",
    );
    const status = Object.fromEntries(
      (rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]),
    );
    const state = `${status.wsrep_local_state_comment} / ${status.wsrep_cluster_status}`;
    return {
      ok: status.wsrep_local_state_comment === "Synced" && status.wsrep_cluster_status === "Primary",
      state,
    };
  } catch (err) {
    conn?.destroy();
    conn = undefined;
    return { ok: false, state: (err as Error).message };
  }
}

let last = "";
Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch() {
    const { ok, state } = await synced();
    // A change of state is worth a line; HAProxy asks every 300 ms.
    if (state !== last) console.log(`${ok ? "healthy" : "unhealthy"}: ${state}`);
    last = state;
    return new Response(`${state}\n`, { status: ok ? 200 : 503 });
  },
});
console.log(`probe on 127.0.0.1:${port}`);
