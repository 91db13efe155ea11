import { describe, expect, test } from "bun:test";
import { DEFAULT_URL, OptionsError, parseCli, resolveOptions } from "./options.ts";

const run = (argv: string[]) => {
  const r = parseCli(argv);
  if (r.kind !== "run") throw new Error(`expected options, got ${JSON.stringify(r)}`);
  return r.options;
};
const error = (argv: string[]) => {
  const r = parseCli(argv);
  if (r.kind !== "error") throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r.message;
};

describe("options", () => {
  test("have the documented defaults", () => {
    const o = run([]);
    expect(o).toMatchObject({
      url: DEFAULT_URL,
      sessions: 8,
      iterations: 50,
      p: 0.3,
      duration: null,
      timeout: 10,
      json: false,
      quiet: false,
    });
    expect(Number.isInteger(o.seed)).toBe(true);
  });

  test("a missing seed is drawn fresh for each run", () => {
    const seeds = new Set(Array.from({ length: 5 }, () => run([]).seed));
    expect(seeds.size).toBeGreaterThan(1);
  });

  test("are read from argv, after an optional --", () => {
    const o = run([
      "--",
      "--url",
      "http://localhost:9000/",
      "--sessions",
      "3",
      "--iterations",
      "7",
      "--p",
      "1",
      "--seed",
      "42",
      "--duration",
      "1.5",
      "--timeout",
      "0.5",
      "--json",
      "--quiet",
    ]);
    expect(o).toEqual({
      url: "http://localhost:9000",
      sessions: 3,
      iterations: 7,
      p: 1,
      seed: 42,
      duration: 1.5,
      timeout: 0.5,
      json: true,
      quiet: true,
    });
  });

  test("--duration without --iterations runs until the duration is over", () => {
    expect(run(["--duration", "5"]).iterations).toBe(Infinity);
    expect(run(["--duration", "5", "--iterations", "3"]).iterations).toBe(3);
  });

  test("--help and -h ask for the usage", () => {
    expect(parseCli(["--help"]).kind).toBe("help");
    expect(parseCli(["-h", "--sessions", "x"]).kind).toBe("help");
  });

  test("bad values are named with the option and the rule", () => {
    expect(error(["--sessions", "0"])).toBe("--sessions: must be at least 1");
    expect(error(["--sessions", "2.5"])).toBe("--sessions: must be a whole number");
    expect(error(["--sessions", "many"])).toBe("--sessions: must be a whole number");
    expect(error(["--iterations", ""])).toBe("--iterations: must be a whole number");
    expect(error(["--p", "1.5"])).toBe("--p: must be from 0 to 1");
    expect(error(["--p=-0.1"])).toBe("--p: must be from 0 to 1");
    expect(error(["--seed=-1"])).toBe("--seed: must not be negative");
    expect(error(["--seed", "4294967296"])).toBe("--seed: must be at most 4294967295");
    expect(error(["--duration", "0"])).toBe("--duration: must be more than 0");
    expect(error(["--timeout", "Infinity"])).toBe("--timeout: must be a number of seconds");
    expect(error(["--url", "not a url"])).toBe("--url: must be a URL such as http://127.0.0.1:8080");
    expect(error(["--url", "ftp://example.com"])).toBe("--url: must be an http:// or https:// URL");
  });

  test("every bad option is reported at once", () => {
    expect(error(["--sessions", "0", "--p", "2"]).split("\n")).toEqual([
      "--sessions: must be at least 1",
      "--p: must be from 0 to 1",
    ]);
  });

  test("unknown options, missing values and stray arguments are refused", () => {
    expect(error(["--session", "3"])).toContain("Unknown option '--session'");
    expect(error(["--sessions"])).toContain("argument missing");
    expect(error(["--json=yes"])).toContain("does not take an argument");
    expect(error(["extra"])).toContain("Unexpected argument 'extra'");
  });

  test("runClient's options go through the same checks", () => {
    expect(() => resolveOptions({ sessions: 0 })).toThrow(OptionsError);
    expect(() => resolveOptions({ p: Number.NaN })).toThrow("--p: must be a number from 0 to 1");
    expect(resolveOptions({ seed: 5, iterations: 2 })).toMatchObject({ seed: 5, iterations: 2, sessions: 8 });
  });
});

describe("the CLI's exit status for options", () => {
  const cli = (...args: string[]) =>
    Bun.spawnSync(["bun", `${import.meta.dir}/main.ts`, ...args], { stdout: "pipe", stderr: "pipe" });

  test("bad options print a clear message and exit 2", () => {
    const r = cli("--sessions", "0");
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toBe(
      "client: --sessions: must be at least 1\nRun with --help for the options.\n",
    );
    expect(r.stdout.toString()).toBe("");
  });

  test("--help prints the usage and exits 0", () => {
    const r = cli("--help");
    expect(r.exitCode).toBe(0);
    const usage = r.stdout.toString();
    for (
      const opt of [
        "--url",
        "--sessions",
        "--iterations",
        "--p",
        "--seed",
        "--duration",
        "--timeout",
        "--json",
        "--quiet",
        "--help",
      ]
    ) expect(usage).toContain(opt);
  });
});
