// The README's quick start on a fresh machine: a clean clone of the repository (its
// committed HEAD, as CI clones main) copied into a new container made from the local
// Debian base with only Debian's nodejs and npm, then the README's two commands
// exactly as written there (read from README.md, not copied here): the store command
// in the background until the store answers on its port, then the test command's
// unit pass. Then Ctrl-C stops the store with nothing left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../local/src/index.ts";
import { prepare, sh, STANDINS } from "../docker/engine.ts";

/** The two commands of README.md's "Quick start" block: [store, tests] (comments dropped). */
export function quickStart(readme: string): { store: string; tests: string } {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Quick start"));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  const commands = (block ?? "").split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
  if (commands.length !== 2) {
    throw new Error(`README's quick start should be two commands, found: ${JSON.stringify(commands)}`);
  }
  return { store: commands[0]!, tests: commands[1]! };
}

const { store, tests } = quickStart(await Bun.file(path.join(REPO_ROOT, "README.md")).text());
const NAME = `bazaar-fresh-${process.pid}`;
const CA = process.env.NODE_EXTRA_CA_CERTS ?? "/etc/ssl/certs/ca-certificates.crt";
const exec = (script: string, allowFail = false) =>
  sh(["docker", "exec", NAME, "bash", "-c", `cd /root/bazaar && ${script}`], { allowFail });

beforeAll(async () => {
  // The fresh pass prepares before its tests (scripts/test.ts); by hand, here.
  if (!process.env.BAZAAR_DOCKER_PREPARED) await prepare();
  const clone = mkdtempSync(path.join(tmpdir(), "bazaar-clone-"));
  try {
    sh(["git", "clone", "-q", "--no-hardlinks", REPO_ROOT, path.join(clone, "bazaar")]);
    // A machine of this workplace: its registry traffic passes a TLS-inspecting egress
    // whose CA only the host trusts; the container trusts it too, nothing more.
    sh([
      "docker",
      "run",
      "-d",
      "--init",
      "--name",
      NAME,
      "-v",
      `${CA}:/etc/ssl/certs/host-ca.crt:ro`,
      "-e",
      "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca.crt",
      STANDINS.node.tag,
      "sleep",
      "infinity",
    ]);
    sh(["docker", "cp", path.join(clone, "bazaar"), `${NAME}:/root/bazaar`]);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}, 300_000);

// Removing a container that ran a whole store takes a while on a busy machine.
afterAll(() => {
  sh(["docker", "rm", "-f", NAME], { allowFail: true });
}, 60_000);

describe("the README's quick start in a fresh container", () => {
  test("the README names a store command and a test command", () => {
    expect(store).toContain("bun run local");
    expect(tests).toBe("bun run test");
  });

  test("the store command, as written, brings up the store on its port", async () => {
    sh(["docker", "exec", "-d", NAME, "bash", "-c", `cd /root/bazaar && (${store}) > /root/store.log 2>&1`]);
    const answers = () =>
      exec(
        `node -e "fetch('http://127.0.0.1:8080/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
        true,
      ).ok;
    const deadline = Date.now() + 400_000;
    while (!answers()) {
      if (Date.now() > deadline) {
        throw new Error(
          `the store did not answer on :8080; its output:\n${exec("tail -40 /root/store.log", true).out}`,
        );
      }
      await Bun.sleep(2000);
    }
    const page =
      exec(`node -e "fetch('http://127.0.0.1:8080/').then(r => r.text()).then(t => console.log(t))"`).out;
    expect(page).toContain("Tux");
    expect(exec("cat /root/store.log").out).toContain("admin");
  }, 420_000);

  test("the test command's unit pass, as written, passes", () => {
    const r = exec(`${tests} --pass units 2>&1`, true);
    const summary = /^(\d+) passed, (\d+) failed$/m.exec(r.out);
    expect({ code: r.code, summary: summary?.[0], tail: r.code === 0 ? "" : r.out.slice(-3000) }).toEqual({
      code: 0,
      summary: expect.stringMatching(/^[1-9]\d* passed, 0 failed$/),
      tail: "",
    });
  }, 300_000);

  test("Ctrl-C stops the store and everything it started", async () => {
    exec("pkill -INT -f 'bun (run local|local/src/main.ts)'", true);
    const deadline = Date.now() + 60_000;
    const left = () =>
      exec("ps -eo comm= | grep -E '^(mariadbd|redis-server|haproxy|bun)$' || true").out.trim();
    while (left() && Date.now() < deadline) await Bun.sleep(1000);
    expect(left()).toBe("");
  }, 90_000);
});
