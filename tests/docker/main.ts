// The compose stack on the stand-ins, by hand (README: "Run with Docker"):
//
//   bun run compose:standin up       engine, base image, stand-ins; build and start the
//                                    stack (project bazaar-standin) and leave it running
//   bun run compose:standin down     stop it, delete its volumes, and stop the daemons
//                                    if `up` started them
//   bun run compose:standin prepare  only the engine, base image and stand-ins
//   (down PROJECT --keep-engine, stop-engine: the steps the test passes use)
//
// The compose pass of `bun run test` (scripts/test.ts) uses the same steps with the
// project bazaar-test: prepare and up before tests/docker/*.test.ts, down after.
import { prepare, sh, stopEngine } from "./engine.ts";
import { compose, composeStack, down, up } from "./stack.ts";

const [command = "up", project = "bazaar-standin"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const stack = composeStack(project);
const log = (line: string) => console.log(line);

switch (command) {
  case "prepare":
    await prepare();
    break;
  case "up": {
    await prepare();
    await up(stack, log);
    const secrets = compose(stack, ["logs", "--no-color", "secrets"], { allowFail: true }).out;
    const admin = /admin password[^\n]*/i.exec(secrets)?.[0];
    console.log(
      `\nthe store:  http://127.0.0.1:${stack.ports.http}/   (admin: /admin${
        admin ? `, ${admin.trim()}` : ""
      })`,
    );
    console.log(
      `stop it:    bun run compose:standin down${project === "bazaar-standin" ? "" : ` ${project}`}`,
    );
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
    console.error(`unknown command ${command}: up, down, prepare or stop-engine`);
    process.exit(2);
}
