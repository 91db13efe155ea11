// Which passes a command line runs, and what runs after each: a pass that needs the
// Docker engine leaves it running only for a later pass of the same run.
import { describe, expect, test } from "bun:test";
import { DOCKER, type Pass, PASSES, planFor, stepsAfter, STOP_ENGINE } from "./passes.ts";

const planOf = (...args: string[]) => {
  const planned = planFor(args);
  if ("error" in planned) throw new Error(planned.error);
  return planned.plan;
};
/** Every command after each pass of the plan, by the pass's name. */
const afterEach = (plan: Pass[]) => Object.fromEntries(plan.map((p, i) => [p.name, stepsAfter(plan, i)]));
const DOWN = [...DOCKER, "down", "bazaar-test", "--keep-engine"];

describe("the Docker engine the passes start", () => {
  test("the compose pass alone stops it afterwards (README's `bun run test --pass compose`)", () => {
    expect(afterEach(planOf("--pass", "compose"))).toEqual({ compose: [DOWN, STOP_ENGINE] });
    expect(afterEach(planOf("--pass", "compose", "tests/docker/store.test.ts"))).toEqual({
      compose: [DOWN, STOP_ENGINE],
    });
    expect(STOP_ENGINE).toEqual(["bun", "tests/docker/main.ts", "stop-engine"]);
  });

  test("the fresh pass alone too", () => {
    expect(afterEach(planOf("--pass", "fresh"))).toEqual({ fresh: [STOP_ENGINE] });
  });

  test("a full run keeps it from the compose pass for the swarm and fresh ones, and stops it after that", () => {
    const after = afterEach(planOf());
    expect(after.compose).toEqual([DOWN]);
    expect(after.swarm).toEqual([["bun", "tests/swarm/main.ts", "down"]]);
    expect(after.fresh).toEqual([STOP_ENGINE]);
    // Stopped exactly once, after the last pass that needs it.
    expect(Object.values(after).flat().filter((step) => step === STOP_ENGINE)).toHaveLength(1);
    expect(PASSES.filter((p) => p.engine).map((p) => p.name)).toEqual(["compose", "swarm", "fresh"]);
  });

  test("passes that need no engine run nothing after them", () => {
    for (const name of ["typecheck", "units", "compiled", "deno"]) {
      expect(afterEach(planOf("--pass", name))).toEqual({ [name]: [] });
    }
    expect(afterEach(planOf("tests/system/api.test.ts"))).toEqual({ files: [] });
  });
});

describe("the command line", () => {
  test("a pass, a pass with other files, files alone, or every pass", () => {
    expect(planOf().map((p) => p.name)).toEqual(PASSES.map((p) => p.name));
    expect(planOf("--pass", "deno").map((p) => p.name)).toEqual(["deno"]);
    expect(planOf("--pass", "compiled", "tests/browser/")[0]).toMatchObject({
      name: "compiled",
      tests: ["tests/browser/"],
      ignore: [],
    });
    expect(planOf("--", "tests/system/")).toEqual([{
      name: "files",
      system: true,
      tests: ["tests/system/"],
    }]);
  });

  test("an unknown pass, or files for a pass that runs a command, is an error naming it", () => {
    expect(planFor(["--pass", "nope"])).toEqual({ error: expect.stringContaining('no pass "nope"') });
    expect(planFor(["--pass", "lint", "x.ts"])).toEqual({
      error: "pass lint runs a command and takes no test paths",
    });
  });
});

describe("the compiled pass", () => {
  const compiled = PASSES.find((p) => p.name === "compiled")!;
  const ignored = (file: string) =>
    "ignore" in compiled && (compiled.ignore ?? []).some((glob) => new Bun.Glob(glob).match(file));

  test("runs every test file under tests/ (the route and contract tests too) but the engine's", () => {
    expect(compiled).toMatchObject({ tests: ["tests/"] });
    const files = [...new Bun.Glob("tests/**/*.test.ts").scanSync({ cwd: `${import.meta.dir}/..` })];
    expect(files).toContain("tests/api/orders.happy.test.ts");
    expect(files).toContain("tests/contract/fakes.test.ts");
    for (const file of files) {
      expect([file, ignored(file)]).toEqual([file, /^tests\/(docker|swarm|fresh)\//.test(file)]);
    }
  });
});
