import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { filesAndNotices, fileSink, SHOWN_ERRORS } from "./log-sinks.ts";
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

describe("bun run local's default: logs in files, the launcher's lines and errors on the terminal", () => {
  // A child that answers requests (a line each on stdout) and, now and then, errs on stderr.
  const CHATTY = `
for (let i = 0; i < 200; i++) console.log(JSON.stringify({ path: "/products/Tux", status: 200, i }));
console.error("2024-01-01 0 [Note] a note, not an error");
for (let i = 0; i < 12; i++) console.error(JSON.stringify({ level: "error", msg: "db unavailable", i }));
`;

  test("stdout goes only to the file; stderr to the file and the terminal, a few at a time, then a count and the file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "managed-process-"));
    const logs = path.join(dir, "logs");
    let terminal = "";
    const sink = filesAndNotices(logs, ["launcher", "api"], { write: (s: string) => (terminal += s) });
    sink.line("launcher", "starting");
    const p = new ManagedProcess(
      "api",
      () => ({ cmd: [process.execPath, "-e", CHATTY], cwd: dir, env: { ...process.env } }),
      sink,
      path.join(dir, "run"),
    );
    p.start();
    p.log("[launcher] started");
    await p.exited;
    await sink.close();
    const file = readFileSync(path.join(logs, "api.log"), "utf8");
    const shown = terminal.trimEnd().split("\n");
    // Every line is in the file.
    expect(file.match(/"status":200/g)).toHaveLength(200);
    expect(file.match(/db unavailable/g)).toHaveLength(12);
    expect(file).toContain("[Note] a note");
    // The terminal: the launcher's lines, the first errors, and where the rest are.
    expect(terminal).not.toContain('"status":200');
    expect(terminal).not.toContain("[Note]");
    expect(shown).toContain("launcher | starting");
    expect(shown).toContain("api      | [launcher] started");
    expect(shown).toContain("api      | [launcher] api exited unexpectedly (code 0)");
    expect(shown.filter((l) => l.includes("db unavailable"))).toHaveLength(SHOWN_ERRORS.lines);
    expect(shown).toContain(
      `api      | [launcher] ${12 - SHOWN_ERRORS.lines} more line(s) on stderr: ${
        path.join(logs, "api.log")
      }`,
    );
    expect(readFileSync(path.join(logs, "launcher.log"), "utf8")).toBe("starting\n");
  });
});
