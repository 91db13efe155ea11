// testutil is for tests only: no code that ships or runs the store may import it (the
// images do not even copy it). Checked by reading every import of every workspace's
// non-test source, as Bun's transpiler sees them (dynamic imports included).
import { describe, expect, test } from "bun:test";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const workspaces: string[] = (await Bun.file(path.join(ROOT, "package.json")).json()).workspaces;
const others = workspaces.filter((w) => w !== "testutil");
// One per loader: in a .ts file `<T>(x) => …` is a generic arrow, in a .tsx file a tag.
const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };
const importsOf = (file: string, code: string) =>
  transpilers[file.endsWith(".tsx") ? "tsx" : "ts"].scanImports(code).map((i) => i.path);

/** Whether an import specifier, written in `file`, reaches into testutil/. */
const reachesTestutil = (file: string, spec: string) =>
  spec.startsWith("@bazaar/testutil") ||
  (spec.startsWith(".") && path.resolve(path.dirname(file), spec).startsWith(path.join(ROOT, "testutil/")));

/** The non-test sources of a folder: *.ts and *.tsx, less *.test.ts(x). */
const sources = (folder: string) =>
  [...new Bun.Glob(`${folder}/**/*.{ts,tsx}`).scanSync({ cwd: ROOT })]
    .filter((f) => !/\.test\.tsx?$/.test(f) && !f.includes("node_modules/"));

describe("testutil is imported by tests only", () => {
  test.each([...others, "scripts"])("no non-test source of %s/ imports it", async (folder) => {
    const files = sources(folder);
    expect(files.length).toBeGreaterThan(0);
    const offenders: string[] = [];
    for (const file of files) {
      const full = path.join(ROOT, file);
      for (const spec of importsOf(file, await Bun.file(full).text())) {
        if (reachesTestutil(full, spec)) offenders.push(`${file} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test.each(others)("%s/package.json has it as a devDependency at most", async (folder) => {
    const manifest = await Bun.file(path.join(ROOT, folder, "package.json")).json();
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain("@bazaar/testutil");
  });

  test("the check sees an import when there is one", () => {
    const file = path.join(ROOT, "web/src/app.ts");
    const specs = importsOf(
      file,
      'import { fakeApi } from "@bazaar/testutil/fake-api.ts";\nconst m = await import("../../testutil/src/fake-store.ts");',
    );
    expect(specs.filter((s) => reachesTestutil(file, s))).toHaveLength(2);
  });
});
