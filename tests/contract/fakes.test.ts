// The fakes against the real apps (testutil/src/contract.ts): each table's calls, in
// order, to both, from the same catalogue; the real apps in-process over MariaDB.
import { beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ADMIN_API_CONTRACT, API_CONTRACT, type ContractRow, outline } from "../../testutil/src/contract.ts";
import { FAKE_ADMIN_API_TOKEN, fakeAdminApi } from "../../testutil/src/fake-admin-api.ts";
import { FAKE_API_TOKEN, fakeApi } from "../../testutil/src/fake-api.ts";
import {
  type Answer,
  type Call,
  caller,
  CATALOGUE,
  routeHarness,
  type ServiceName,
} from "../../testutil/src/route-harness.ts";

const issues = (row: ContractRow, answer: Answer) =>
  v.safeParse(row.shape, answer.body).issues?.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);

const contracts: [ServiceName, ContractRow[], () => (call: Call) => Promise<Answer>][] = [
  ["api", API_CONTRACT, () => {
    const fake = fakeApi(CATALOGUE.map((i) => ({ ...i })));
    return caller((path, init) => fake.fetch(`http://api.test${path}`, init), FAKE_API_TOKEN);
  }],
  ["admin-api", ADMIN_API_CONTRACT, () => {
    const fake = fakeAdminApi(CATALOGUE.map((i) => ({ ...i })));
    return caller((path, init) => fake.fetch(`http://admin-api.test${path}`, init), FAKE_ADMIN_API_TOKEN);
  }],
];

for (const [service, rows, makeFake] of contracts) {
  describe(`the fake ${service} answers as ${service} does`, async () => {
    const real = await routeHarness(service);
    let fake: (call: Call) => Promise<Answer>;
    // Once, before the first row (the other table's describe may run its rows in between).
    beforeAll(async () => {
      await real.reset();
      fake = makeFake();
    });
    // In order: a row may read what an earlier one wrote (the order a purchase placed).
    test.each(rows.map((row) => [row.name, row] as const))("%s", async (_, row) => {
      const [mine, theirs] = [await real.call(row.call), await fake(row.call)];
      expect({ real: mine.status, fake: theirs.status }).toEqual({ real: row.status, fake: row.status });
      expect({ real: issues(row, mine), fake: issues(row, theirs) }).toEqual({
        real: undefined,
        fake: undefined,
      });
      expect(outline(theirs.body)).toEqual(outline(mine.body));
    });
  });
}
