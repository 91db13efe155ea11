// `bun run local` as a user runs it: a real process with its own ports and data dir
// (MariaDB, Redis, HAProxy and every app), stopped by a signal.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { alive, plannedPorts, REPO_ROOT, SERVICE_NAMES } from "../../local/src/index.ts";
import { launcherEnv, rootSql as sqlAsRoot, spawnCollecting, type Spawned, untilUp } from "./launch.ts";

// Ports of their own (PORT_PLAN.launcher) so this runs beside the test stack and a
// developer's `bun run local` (defaults).
const ports = plannedPorts("launcher");
const DATA_DIR = path.join(REPO_ROOT, ".local/test-launcher");
const STORE = `http://127.0.0.1:${ports.store}`;

/** SQL as root over the stack's socket, as an operator would run it. */
const rootSql = (sql: string) => sqlAsRoot(DATA_DIR, sql);

type Launcher = { proc: Spawned["proc"]; output: () => string; pids: number[] };

/** A child's pid, from the launcher's pid file. */
const pidOf = (name: string) =>
  Number(readFileSync(path.join(DATA_DIR, "run", `${name}.pid`), "utf8").split("\n")[0]);

/** Starts `bun run local` and waits for its "stack is up" banner. */
async function launch(args: string[], env: Record<string, string> = { ADMIN_PASSWORD: "launcher-test" }) {
  const { proc, output } = spawnCollecting(
    ["bun", "local/src/main.ts", ...args],
    launcherEnv(DATA_DIR, ports, env),
  );
  await untilUp({ proc, output }, 60_000);
  // The pid of every child, from the launcher's pid files.
  const runDir = path.join(DATA_DIR, "run");
  const pids = readdirSync(runDir).filter((f) => f.endsWith(".pid")).map((f) => pidOf(f.slice(0, -4)));
  return { proc, output, pids } satisfies Launcher;
}

/** Waits until `check` holds; fails with the launcher's output after `ms`. */
async function until(l: Launcher, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms; the launcher said:\n${l.output()}`);
    await Bun.sleep(100);
  }
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
      const first = await launch(["--fresh", "--verbose"]);
      try {
        // --verbose: every service's lines, each carrying its name; the banner says where things are.
        for (const name of SERVICE_NAMES) {
          expect(first.output()).toMatch(new RegExp(`^${name}\\s+\\| `, "m"));
        }
        expect(first.output()).toContain(`store (proxy)     ${STORE}`);
        // A password the operator chose is not printed, nor kept in the data dir.
        expect(first.output()).toContain("(login admin / the ADMIN_PASSWORD you set)");
        expect(first.output()).not.toContain("launcher-test");
        expect(existsSync(path.join(DATA_DIR, "admin-password"))).toBe(false);
        expect(first.pids.length).toBe(10);
        const res = await fetch(`${STORE}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: "Tux", quantity: 3 }),
        });
        expect(res.status).toBe(200);
        const order = ((await res.json()) as { data: { order_number: number } }).data.order_number;
        // --verbose streams the request lines too.
        await until(first, () => /^web-\d\s+\| \{.*"path":"\/orders"/m.test(first.output()), 5000);
        // Make the data look like an older Bazaar's (no orders.request_id, no versions)
        // and delete a seeded toy: the next start must migrate the one and not bring
        // back the other.
        await rootSql(
          "DELETE FROM bazaar.items WHERE name_key = 'dolphin'; ALTER TABLE bazaar.orders DROP INDEX orders_request, DROP COLUMN request_id; " +
            "DROP TRIGGER bazaar.items_version; DROP TRIGGER bazaar.items_inserted; DROP TRIGGER bazaar.items_deleted; " +
            "DROP TABLE bazaar.catalog_meta; ALTER TABLE bazaar.items DROP COLUMN version;",
        );
        await stop(first, "SIGTERM");

        const second = await launch([]);
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
        const third = await launch(["--fresh"]);
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

  test(
    "a shop owner's first hour: the generated admin password outlives a restart (--fresh makes a new one), the terminal stays quiet under load with the logs in files, a crashed server is restarted",
    async () => {
      const generated = { ADMIN_PASSWORD: "" };
      const passwordIn = (l: Launcher) => l.output().match(/\(login admin \/ ([\w-]+)[,)]/)?.[1];
      const signsIn = async (password: string) =>
        (await new AdminBrowser(STORE).login("admin", password)).status === 303;
      const kept = path.join(path.relative(REPO_ROOT, DATA_DIR), "admin-password");

      const first = await launch(["--fresh"], generated);
      let password: string | undefined;
      try {
        password = passwordIn(first);
        expect(password).toMatch(/^[\w-]{16}$/);
        expect(first.output()).toContain(
          `admin password    generated once, kept in ${kept} (--fresh makes a new one; ADMIN_PASSWORD sets one)`,
        );
        expect(readFileSync(path.join(REPO_ROOT, kept), "utf8")).toBe(`${password}\n`);
        expect(await signsIn(password!)).toBe(true);

        // Quiet by default: the launcher's lines and the banner, no service's own output.
        const logs = path.join(path.relative(REPO_ROOT, DATA_DIR), "logs");
        expect(first.output()).toContain(
          `logs              ${logs}/<service>.log (launcher.log, web-1.log, …; --verbose streams them here)`,
        );
        expect(first.output()).toMatch(/^web-1\s+\| \[launcher\] healthy after/m);
        const shown = first.output().length;
        for (let i = 0; i < 300; i++) await (await fetch(`${STORE}/products/Tux`)).arrayBuffer();
        await Bun.sleep(500);
        expect(first.output().slice(shown)).toBe("");
        const requestLines = ["web-1", "web-2"].map((n) =>
          readFileSync(path.join(DATA_DIR, "logs", `${n}.log`), "utf8").match(/"path":"\/products\/Tux"/g)
            ?.length ?? 0
        );
        expect(requestLines[0]! + requestLines[1]!).toBe(300);

        // A server that dies on its own is restarted, as compose's restart: unless-stopped does, and it says so.
        const before = pidOf("web-1");
        process.kill(before, "SIGKILL");
        await until(first, () => /^web-1\s+\| \[launcher\] web-1 restarted/m.test(first.output()));
        expect(first.output()).toMatch(
          /^web-1\s+\| \[launcher\] web-1 exited unexpectedly \(signal SIGKILL\)/m,
        );
        expect(first.output()).toMatch(/^web-1\s+\| \[launcher\] restarting web-1 in 0\.1 s/m);
        expect(pidOf("web-1")).not.toBe(before);
        expect((await fetch(`http://127.0.0.1:${ports.web1}/healthz`)).status).toBe(200);
        // And HAProxy sends it requests again.
        await until(first, async () => {
          const res = await fetch(`${STORE}/products/Tux`);
          await res.arrayBuffer();
          return res.headers.get("x-served-by")?.endsWith("web-1") ?? false;
        });
      } finally {
        await stop(first, "SIGTERM");
      }

      // Started again: the same password, said to be kept, not a new one.
      const second = await launch([], generated);
      try {
        expect(passwordIn(second)).toBe(password);
        expect(second.output()).toContain(`generated once, kept in ${kept}`);
        expect(await signsIn(password!)).toBe(true);
      } finally {
        await stop(second, "SIGTERM");
      }

      // --fresh: a new one, and the old one no longer signs in.
      const third = await launch(["--fresh"], generated);
      try {
        const fresh = passwordIn(third);
        expect(fresh).toMatch(/^[\w-]{16}$/);
        expect(fresh).not.toBe(password);
        expect(await signsIn(fresh!)).toBe(true);
        expect(await signsIn(password!)).toBe(false);
      } finally {
        await stop(third, "SIGINT", 2);
      }
    },
    240_000,
  );
});
