// `bun run local` as a user runs it: a real process with its own ports and data dir
// (MariaDB, Redis, HAProxy and every app), stopped by a signal.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../local/src/config.ts";
import { alive } from "../../local/src/pid-files.ts";
import { SERVICE_NAMES } from "../../local/src/services.ts";
import {
  launcherEnv,
  offsetPorts,
  rootSql as sqlAsRoot,
  spawnCollecting,
  type Spawned,
  untilUp,
} from "./launch.ts";

// Ports of their own (+6000) so this runs beside the test stack (+10000) and a
// developer's `bun run local` (defaults).
const OFFSET = 6000;
const ports = offsetPorts(OFFSET);
const DATA_DIR = path.join(REPO_ROOT, ".local/test-launcher");
const STORE = `http://127.0.0.1:${ports.store}`;

/** SQL as root over the stack's socket, as an operator would run it. */
const rootSql = (sql: string) => sqlAsRoot(DATA_DIR, sql);

type Launcher = { proc: Spawned["proc"]; output: () => string; pids: number[] };

/** Starts `bun run local` and waits for its "stack is up" banner. */
async function launch(...args: string[]): Promise<Launcher> {
  const { proc, output } = spawnCollecting(
    ["bun", "local/src/main.ts", ...args],
    launcherEnv(DATA_DIR, ports, { ADMIN_PASSWORD: "launcher-test" }),
  );
  await untilUp({ proc, output }, 60_000);
  // The pid of every child, from the launcher's pid files.
  const runDir = path.join(DATA_DIR, "run");
  const pids = readdirSync(runDir).filter((f) => f.endsWith(".pid")).map((f) =>
    Number(readFileSync(path.join(runDir, f), "utf8").split("\n")[0])
  );
  return { proc, output, pids };
}

async function stop(l: Launcher, signal: NodeJS.Signals, times = 1) {
  // Ctrl-C under `bun run` reaches the launcher twice at once (terminal + bun run).
  for (let i = 0; i < times; i++) l.proc.kill(signal);
  const code = await Promise.race([l.proc.exited, Bun.sleep(30_000).then(() => "timeout")]);
  expect(code).toBe(0);
  expect(l.pids.filter(alive)).toEqual([]);
  expect(l.output()).toContain("launcher  | stopped");
  expect(await fetch(`${STORE}/healthz`).then(() => "open", () => "closed")).toBe("closed");
}

describe("bun run local", () => {
  test(
    "starts every service, keeps data between runs, --fresh resets it, a signal stops everything, a killed run is cleaned up",
    async () => {
      const first = await launch("--fresh");
      try {
        // Every service's lines carry its name; the banner says where things are.
        for (const name of SERVICE_NAMES) {
          expect(first.output()).toMatch(new RegExp(`^${name}\\s+\\| `, "m"));
        }
        expect(first.output()).toContain(`store (proxy)     ${STORE}`);
        expect(first.pids.length).toBe(10);
        const res = await fetch(`${STORE}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: "Tux", quantity: 3 }),
        });
        expect(res.status).toBe(200);
        const order = ((await res.json()) as { data: { order_number: number } }).data.order_number;
        // Make the data look like an older Bazaar's (no orders.request_id, no versions)
        // and delete a seeded toy: the next start must migrate the one and not bring
        // back the other.
        await rootSql(
          "DELETE FROM bazaar.items WHERE name_key = 'dolphin'; ALTER TABLE bazaar.orders DROP INDEX orders_request, DROP COLUMN request_id; " +
            "DROP TRIGGER bazaar.items_version; DROP TRIGGER bazaar.items_inserted; DROP TRIGGER bazaar.items_deleted; " +
            "DROP TABLE bazaar.catalog_meta; ALTER TABLE bazaar.items DROP COLUMN version;",
        );
        await stop(first, "SIGTERM");

        const second = await launch();
        try {
          const kept = await fetch(`${STORE}/orders/${order}`, { headers: { Accept: "application/json" } });
          expect(kept.status).toBe(200);
          expect(
            ((await fetch(`${STORE}/products/tux`).then((r) => r.json())) as { data: { quantity: number } })
              .data.quantity,
          ).toBe(97);
          expect((await fetch(`${STORE}/products/dolphin`)).status).toBe(404);
          // The versions are back: a read carries one, and a purchase changes it.
          const before = (await fetch(`${STORE}/products/fox`)).headers.get("etag");
          expect(before).toMatch(/^"i\d+\.\d+"$/);
          const bought = await fetch(`${STORE}/orders`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ name: "Fox", quantity: 1 }),
          });
          expect(bought.status).toBe(200);
          const after = await fetch(`${STORE}/products/fox`);
          expect(after.headers.get("etag")).not.toBe(before);
          expect(((await after.json()) as { data: { quantity: number } }).data.quantity).toBe(99);
        } finally {
          // A launcher killed outright leaves its children running…
          second.proc.kill("SIGKILL");
          await second.proc.exited;
        }

        // …and the next one stops them before it starts.
        const third = await launch("--fresh");
        try {
          expect(second.pids.filter(alive)).toEqual([]);
          expect(
            (await fetch(`${STORE}/orders/${order}`, { headers: { Accept: "application/json" } })).status,
          ).toBe(404);
          expect(
            ((await fetch(`${STORE}/products/tux`).then((r) => r.json())) as { data: { quantity: number } })
              .data.quantity,
          ).toBe(100);
        } finally {
          await stop(third, "SIGINT", 2);
        }
      } finally {
        // A failed assertion above must not leave a stack behind.
        if (first.proc.exitCode === null) {
          first.proc.kill("SIGTERM");
          await first.proc.exited;
        }
      }
    },
    180_000,
  );
});
