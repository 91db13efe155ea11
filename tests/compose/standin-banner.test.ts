// What `bun run compose:standin up` tells a person (tests/docker/main.ts): the stand-in
// stack has a project and an override file of its own, and Debian 12's compose is v1
// (`docker-compose`; no `docker compose`), so the secrets service's own hint
// (`docker compose logs secrets`) would find nothing there. Its lines name what works.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../local/src/index.ts";
import { composeCommands, composeStack, standinBanner } from "../docker/stack.ts";

describe("the stand-in stack's banner", () => {
  const stack = composeStack("bazaar-standin");

  test("names the store, the admin login and password, and how to read the password again", () => {
    const lines = standinBanner(stack, "the-password");
    expect(lines[0]).toBe(
      "the store:  http://127.0.0.1:9080/   (admin: /admin, user admin, password the-password)",
    );
    expect(lines).toContain("the admin password again: bun run compose:standin password");
    expect(lines).toContain("stop it:    bun run compose:standin down");
    expect(lines.join("\n")).not.toContain("docker compose logs secrets");
  });

  test("its compose commands name the project and both files, in v1's spelling and v2's", () => {
    const lines = standinBanner(stack, undefined).join("\n");
    const v1 =
      "docker-compose -p bazaar-standin -f compose.yaml -f tests/docker/standin/compose.standin.yaml run --rm secrets --show-admin-password";
    expect(lines).toContain(`  or: ${v1}`);
    expect(lines).toContain(`(Compose v2: ${v1.replace("docker-compose", "docker compose")})`);
    for (const file of ["compose.yaml", "tests/docker/standin/compose.standin.yaml"]) {
      expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
    }
  });

  test("another project is named in every command", () => {
    const other = composeStack("bazaar-test");
    expect(composeCommands(other, "ps").v1).toStartWith("docker-compose -p bazaar-test ");
    const lines = standinBanner(other, "p");
    expect(lines).toContain("the admin password again: bun run compose:standin password bazaar-test");
    expect(lines).toContain("stop it:    bun run compose:standin down bazaar-test");
  });
});
