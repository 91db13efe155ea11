// The migration of items.name_key's pure part: which rows get new keys, and the
// refusal that names every row the new name rule cannot keep. The migration itself,
// on a real MariaDB through the launcher, is in tests/system/names.test.ts.
import { describe, expect, test } from "bun:test";
import { planNameKeys } from "./mariadb.ts";

describe("planNameKeys", () => {
  test("rows keyed by the old rule (lowercase) get today's keys; ASCII rows keep theirs", () => {
    const rows = [
      { id: 1, name: "Tux", key: "tux" },
      { id: 2, name: "Straße", key: "straße" },
      { id: 3, name: "ΟΔΟΣ", key: "οδοσ" },
      { id: 4, name: "İ".repeat(40), key: "i̇".repeat(40) },
    ];
    expect(planNameKeys(rows)).toEqual([
      { id: 2, key: "strasse" },
      { id: 4, key: "i".repeat(40) },
    ]);
    expect(planNameKeys([{ id: 1, name: "Tux", key: "tux" }])).toEqual([]);
  });

  test("names that are now the same, and names now refused, are all named; the message says what to do", () => {
    const rows = [
      { id: 11, name: "straße", key: "straße" },
      { id: 12, name: "STRASSE", key: "strasse" },
      { id: 13, name: "Tu\u0301x", key: "tu\u0301x" },
      { id: 14, name: "T\u00fax", key: "t\u00fax" },
      { id: 15, name: "Fox\u202e", key: "fox\u202e" },
      { id: 16, name: "Whale", key: "whale" },
    ];
    let message = "";
    try {
      planNameKeys(rows);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('"straße" (id 11) and "STRASSE" (id 12) are now the same name (key "strasse")');
    expect(message).toContain(
      '"Tu\u0301x" (id 13) and "T\u00fax" (id 14) are now the same name (key "t\u00fax")',
    );
    expect(message).toContain(
      '"Fox<U+202E>" (id 15): must not contain control, invisible or bidi characters (U+202E)',
    );
    expect(message).not.toContain("Whale");
    expect(message).toContain("nothing in it was changed");
    expect(message).toContain("bun run local --fresh");
  });
});
