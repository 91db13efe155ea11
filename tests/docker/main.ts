// The compose stack on the stand-ins, by hand (README: "Run with Docker"):
//
//   bun run compose:standin up       engine, base image, stand-ins; build and start the
//                                    stack (project bazaar-standin) and leave it running
//   bun run compose:standin down     stop it, delete its volumes, and stop the daemons
//                                    if `up` started them
//   bun run compose:standin password the admin password of the running stack
//   bun run compose:standin prepare  only the engine, base image and stand-ins
//   (down PROJECT --keep-engine, stop-engine: the steps the test passes use)
//   … --ha                           the same with compose.ha.yaml: the database as three
//                                    Galera nodes (up --ha, password --ha, down --ha)
//
// The compose pass of `bun run test` (scripts/test.ts) uses the same steps with the
// project bazaar-test: prepare and up before tests/docker/*.test.ts, down after.
import { prepare, sh, stopEngine } from "./engine.ts";
import { compose, composeStack, down, GALERA_FILES, standinBanner, up } from "./stack.ts";

const [command = "up", project = "bazaar-standin"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const stack = composeStack(project, undefined, process.argv.includes("--ha") ? GALERA_FILES : undefined);
const log = (line: string) => console.log(line);
/** The admin password the secrets service keeps (generated on the first up, or from the environment). */
const adminPassword = () =>
  compose(stack, ["run", "--rm", "--no-deps", "-T", "secrets", "--show-admin-password"], { allowFail: true })
    .out.trim().split("\n").at(-1) || undefined;

switch (command) {
  case "prepare":
    await prepare();
    break;
  case "up": {
    await prepare();
    await up(stack, log);
    // Not the secrets service's own hint (`docker compose logs secrets`): this stack has a
    // project and an override file of its own, and Debian's compose is v1.
    console.log(`\n${standinBanner(stack, adminPassword()).join("\n")}`);
    break;
  }
  case "password": {
    const password = adminPassword();
    if (!password) {
      console.error(`no admin password: is the stack up? (bun run compose:standin up)`);
      process.exit(1);
    }
    console.log(password);
    break;
  }
  case "down":
    await down(stack, log);
    // Images an earlier build left untagged (superseded stand-ins and build stages);
    // the last hour's stay, as the layer cache of the next build.
    sh(["docker", "image", "prune", "-f", "--filter", "until=1h"], { allowFail: true });
    if (!process.argv.includes("--keep-engine")) await stopEngine();
    break;
  case "stop-engine":
    await stopEngine();
    break;
  default:
    console.error(`unknown command ${command}: up, down, password, prepare or stop-engine`);
    process.exit(2);
}
