import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { filesAndNotices } from "./log-sinks.ts";

test("the terminal gets a MariaDB error, not a note's continuation lines nor Galera's transfer progress", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sinks-"));
  let shown = "";
  const sink = filesAndNotices(dir, ["db-2", "api"], { write: (s: string) => (shown += s) });
  sink.errors!("db-2", [
    "2026-12-07  9:56:38 0 [Note] WSREP: New view",
    "  id: 540b4507-f224-11f1-8b0a-3ecbd41e273d:35",
    "\tmembers    = 1/3 (joined/total),",
    "WSREP_SST: [INFO] Streaming with mbstream (20261207 09:51:49.888)",
    "2026-12-07 10:29:40 0 [Warning] WSREP: Could not open state file for reading: 'grastate.dat'",
    "Version: 2",
    "UUID: 00000000-0000-0000-0000-000000000000",
    "Seqno: -1 - -1",
    "Offset: -1",
    "Synced: 0",
    "View:",
    "2026-12-07  9:56:39 0 [ERROR] WSREP: a real one",
  ]);
  sink.errors!("api", ["Error: boom", "    at place (purchase.ts:1)"]);
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
  expect(shown).not.toContain("members");
  expect(shown).not.toContain("WSREP_SST");
  // A new node's empty state file, printed after its warning: only the warning is shown.
  expect(shown).toContain("Could not open state file");
  expect(shown).not.toMatch(/Synced: 0|View:|Seqno/);
  expect(shown).toContain("[ERROR] WSREP: a real one");
  // An app's indented lines are its errors' own: still shown.
  expect(shown).toContain("at place (purchase.ts:1)");
});
