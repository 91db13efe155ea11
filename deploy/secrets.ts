// Swarm's secrets for deploy/stack.yaml, made as compose's one-shot `secrets` service
// makes its files (lib/src/secrets/secrets.ts: each secret from the environment, else
// the copy kept from an earlier run, else a new random one), then handed to Swarm:
// `docker secret create bazaar_<file>` for every file a service of the stack reads.
// Run it on a manager before `docker stack deploy`:
//
//   bun deploy/secrets.ts                       create what is missing
//   bun deploy/secrets.ts --show-admin-password the admin password, from the kept copy
//
// The kept copies are in .local/swarm-secrets/store (owner only; SWARM_SECRETS_DIR
// moves it): Swarm never gives a secret's value back, and the database keeps the
// passwords it was first started with. A secret Swarm already has is left as it is
// (Swarm's secrets cannot change; remove the stack and `docker secret rm` it first).
import { spawnSync } from "bun";
import { mkdirSync } from "node:fs";
import path from "node:path";
import {
  CACHE,
  CONSUMERS,
  initReport,
  initSecrets,
  PROXY,
  REDIS,
  STORE,
} from "../lib/src/secrets/secrets.ts";
import { SECRET_FILES, secretName } from "./stack-file.ts";

const dir = path.resolve(
  process.env.SWARM_SECRETS_DIR ?? path.join(import.meta.dir, "../.local/swarm-secrets"),
);

/** Which folder of `dir` holds each file a service reads (the first service that reads it). */
export function secretSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const [folder, files] of Object.entries(SECRET_FILES)) {
    for (const file of files) if (!sources.has(file)) sources.set(file, path.join(folder, file));
  }
  return sources;
}

const docker = (args: string[]) => spawnSync(["docker", ...args], { stdout: "pipe", stderr: "pipe" });

if (import.meta.main) {
  for (const folder of [STORE, ...Object.keys(CONSUMERS), CACHE, PROXY, REDIS]) {
    mkdirSync(path.join(dir, folder), { recursive: true, mode: 0o700 });
  }
  if (process.argv.includes("--show-admin-password")) {
    console.log(await Bun.file(path.join(dir, STORE, "admin_password")).text());
    process.exit(0);
  }
  const result = initSecrets(dir, process.env);
  let failed = 0;
  for (const [file, source] of secretSources()) {
    const name = secretName(file);
    if (docker(["secret", "inspect", name]).success) {
      console.log(`${name}: Swarm has it already (kept)`);
      continue;
    }
    const made = docker(["secret", "create", "--label", "bazaar=true", name, path.join(dir, source)]);
    if (made.success) console.log(`${name}: created`);
    else {
      failed++;
      console.error(`${name}: ${made.stderr.toString().trim()}`);
    }
  }
  for (const line of initReport(dir, result, process.env)) {
    // Compose's commands in the report do not apply here: this script's do.
    console.log(
      line.replace(
        /; (read it again|show it) with: .*$/,
        "; show it with: bun deploy/secrets.ts --show-admin-password",
      ),
    );
  }
  process.exit(failed ? 1 : 0);
}
