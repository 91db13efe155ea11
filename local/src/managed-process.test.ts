import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileSink } from "./log-sinks.ts";
import { ManagedProcess } from "./managed-process.ts";
import { which } from "./system.ts";

// A child that does what HAProxy does to its stdout (F_SETFL O_NONBLOCK, which clears
// O_APPEND), then writes a line every 30 ms while the launcher writes its own.
const CLEARS_APPEND = `
import fcntl, os, time
fcntl.fcntl(1, fcntl.F_SETFL, os.O_NONBLOCK)
for i in range(5):
    os.write(1, b"child %d\\n" % i)
    time.sleep(0.03)
`;
const python = which("python3");

describe("a child that clears O_APPEND on its output, with logs in files", () => {
  test.skipIf(!python)(
    "its lines and the launcher's all land after what was there, none over another",
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "managed-process-"));
      const logs = path.join(dir, "logs");
      const sink = fileSink(logs);
      sink.line("proxy", "from before");
      const p = new ManagedProcess(
        "proxy",
        () => ({ cmd: [python!, "-c", CLEARS_APPEND], cwd: dir, env: { ...process.env } }),
        sink,
        path.join(dir, "run"),
        { clearsAppend: true },
      );
      for (let run = 0; run < 2; run++) {
        p.start();
        for (let i = 0; i < 5; i++) {
          await Bun.sleep(25);
          p.log(`[launcher] run ${run} line ${i}`);
        }
        await p.exited;
      }
      await sink.close();
      const lines = readFileSync(path.join(logs, "proxy.log"), "utf8").trimEnd().split("\n");
      expect(lines[0]).toBe("from before");
      for (let run = 0; run < 2; run++) {
        for (let i = 0; i < 5; i++) expect(lines).toContain(`[launcher] run ${run} line ${i}`);
      }
      expect(lines.filter((l) => l.startsWith("child "))).toHaveLength(10);
      expect(lines.filter((l) => l === "[launcher] starting proxy")).toHaveLength(2);
      expect(lines.filter((l) => l.endsWith("exited unexpectedly (code 0)"))).toHaveLength(2);
      expect(lines).toHaveLength(1 + 2 * (1 + 5 + 5 + 1));
    },
  );
});
