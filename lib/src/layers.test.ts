// lib/src by who may import it (lib/src/README.md): a page tier never reaches data/
// (it has its API for that), an API never reaches ui/, and what every tier shares (the
// files at the top of lib/src) reaches neither, nor runtime/ or secrets/. Read from the
// sources' imports, following lib's own imports to the end.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const LIB = path.join(ROOT, "lib/src");

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g;

const sources = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => path.join(dir, f));

/** The lib files `file` imports itself (by @bazaar/lib/… or a relative path into lib/src). */
const libImports = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(SPECIFIER)].flatMap(([, spec]) => {
    const target = spec!.startsWith("@bazaar/lib/")
      ? path.join(LIB, spec!.slice("@bazaar/lib/".length))
      : spec!.startsWith(".")
      ? path.resolve(path.dirname(file), spec!)
      : undefined;
    return target?.startsWith(LIB + path.sep) ? [target] : [];
  });

/** Every lib file `file` reaches, each with the chain of imports that reaches it. */
function reached(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const walk = (from: string, chain: string[]) => {
    for (const target of libImports(from)) {
      if (seen.has(target)) continue;
      seen.set(target, [...chain, target]);
      walk(target, [...chain, target]);
    }
  };
  walk(file, [file]);
  return seen;
}

const rel = (file: string) => path.relative(ROOT, file);

/** "a.ts -> b.ts -> c.ts" for each file of `files` that reaches a lib file under `folder`. */
const crossings = (files: string[], folder: string) =>
  files.flatMap((file) =>
    [...reached(file)]
      .filter(([target]) => target.startsWith(path.join(LIB, folder) + path.sep))
      .map(([, chain]) => chain.map(rel).join(" -> "))
  );

const PAGE_TIERS = ["web", "admin"].flatMap((app) => sources(path.join(ROOT, app, "src")));
const APIS = ["api", "admin-api"].flatMap((app) => sources(path.join(ROOT, app, "src")));
const SHARED = readdirSync(LIB)
  .filter((f) => /\.tsx?$/.test(f) && !f.includes(".test."))
  .map((f) => path.join(LIB, f));

describe("who imports what of lib/src", () => {
  test("the page tiers (web, admin) never reach lib/src/data/", () => {
    expect(crossings(PAGE_TIERS, "data")).toEqual([]);
  });

  test("the APIs (api, admin-api) never reach lib/src/ui/", () => {
    expect(crossings(APIS, "ui")).toEqual([]);
  });

  test("what every tier shares (lib/src/*.ts, tests aside) reaches none of the tiers' folders", () => {
    for (const folder of ["data", "ui", "runtime", "secrets"]) expect(crossings(SHARED, folder)).toEqual([]);
  });

  test("the reading sees the imports it checks (a page tier reaches ui/, an API data/)", () => {
    expect(crossings(PAGE_TIERS, "ui").length).toBeGreaterThan(0);
    expect(crossings(APIS, "data").length).toBeGreaterThan(0);
    // A relative path into lib is read too.
    const chain = crossings([path.join(ROOT, "lib/src/runtime/backend.ts")], "data");
    expect(chain).toContain("lib/src/runtime/backend.ts -> lib/src/data/db.ts");
  });
});
