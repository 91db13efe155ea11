// The start order, derived from what each service needs: first those that need
// nothing, then those whose needs are all met, and so on (a topological order, in
// rounds). A stop goes the other way.

/**
 * The services in start groups: each group needs only services of earlier groups,
 * and its members start together. Within a group, the given order is kept.
 *
 * @example startGroups([{ name: "db", needs: [] }, { name: "api", needs: ["db"] }]) // [["db"], ["api"]]
 */
export function startGroups(services: readonly { name: string; needs: readonly string[] }[]): string[][] {
  const names = new Set(services.map((s) => s.name));
  for (const s of services) {
    const unknown = s.needs.filter((n) => !names.has(n));
    if (unknown.length) throw new Error(`${s.name} needs ${unknown.join(", ")}: no such service`);
  }
  const groups: string[][] = [];
  const started = new Set<string>();
  let left = [...services];
  while (left.length) {
    const group = left.filter((s) => s.needs.every((n) => started.has(n))).map((s) => s.name);
    if (group.length === 0) {
      throw new Error(`these services need each other: ${left.map((s) => s.name).join(", ")}`);
    }
    groups.push(group);
    for (const name of group) started.add(name);
    left = left.filter((s) => !started.has(s.name));
  }
  return groups;
}
