// The launcher's small pure parts: configuration, the missing-program message, log
// lines. `bun run local` itself, as a real process, is tested in tests/launcher/.
import { describe, expect, test } from "bun:test";
import { consoleSink } from "./log-sinks.ts";
import { PORT_DEFAULTS, resolvePorts } from "./ports.ts";
import { requirePrograms } from "./system.ts";

describe("configuration", () => {
  test("every port can be set by its environment variable", () => {
    const ports = resolvePorts(undefined, { STORE_PORT: "9080", DB_PORT: "13306" });
    expect(ports.store).toBe(9080);
    expect(ports.db).toBe(13306);
    expect(ports.api).toBe(PORT_DEFAULTS.api);
  });

  test("a bad or doubled port is refused naming the variable", () => {
    expect(() => resolvePorts(undefined, { API_PORT: "70000" })).toThrow("API_PORT: not a port: 70000");
    expect(() => resolvePorts(undefined, { WEB1_PORT: "8084" })).toThrow(
      /WEB2_PORT and WEB1_PORT are both 8084|WEB1_PORT and WEB2_PORT are both 8084/,
    );
  });

  test("a missing system program is named with its Debian package", async () => {
    const missing = requirePrograms({ x: { bin: "no-such-program-bazaar", pkg: "bazaar-test-pkg" } }, {
      install: false,
    });
    await expect(missing).rejects.toThrow("install the Debian package(s) bazaar-test-pkg");
  });

  test("each log line carries its service's name", () => {
    let out = "";
    consoleSink(["db", "web-1"], { write: (s: string) => (out += s) }).line("web-1", "listening");
    expect(out).toBe("web-1  | listening\n");
  });
});
