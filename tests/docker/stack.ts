// The compose stack on the stand-ins: compose.yaml + the stand-in override, under a
// project name of its own and on ports of its own, so it runs beside `bun run local`
// and the local test stack. Used by the compose pass (tests/docker/*.test.ts) and by
// `bun run compose:standin` for a person to look at.
import { spawn } from "bun";
import { appendFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cleanEnv, type Log, OVERRIDE_FILE, sh, STANDIN_DIR } from "./engine.ts";
import { PORT_PLAN, REPO_ROOT } from "../../local/src/index.ts";

export type ComposeStack = {
  project: string;
  /** The published ports: HTTP_PORT, and the debug port ranges of the web and admin replicas. */
  ports: { http: number; web: string; admin: string };
  /** The environment compose runs with (ports; secrets come from the `secrets` service). */
  env: Record<string, string>;
  /** The compose files, in order: compose.yaml and the stand-ins' override, or those of a variant. */
  files: string[];
};

/**
 * Ports by project, each the design's + an offset of its own (PORT_PLAN): the test
 * pass's (compose) and a person's stand-in stack (standin: http://127.0.0.1:9080/), so
 * both run beside `bun run local` and each other.
 */
const OFFSETS: Record<string, number> = {
  "bazaar-test": PORT_PLAN.compose.offset,
  "bazaar-standin": PORT_PLAN.standin.offset,
  "bazaar-galera": PORT_PLAN.composeGalera.offset,
};

/** compose.yaml on the stand-ins: what the compose pass runs. */
export const STANDARD_FILES = [path.join(REPO_ROOT, "compose.yaml"), OVERRIDE_FILE];

/**
 * compose.yaml with compose.ha.yaml (the Galera cluster) and compose.replicas.yaml (two
 * of each API behind their proxies): no single point of failure behind the web tier,
 * all on the stand-ins.
 */
export const GALERA_FILES = [
  path.join(REPO_ROOT, "compose.yaml"),
  path.join(REPO_ROOT, "compose.ha.yaml"),
  path.join(REPO_ROOT, "compose.replicas.yaml"),
  OVERRIDE_FILE,
  path.join(STANDIN_DIR, "compose.ha.standin.yaml"),
  path.join(STANDIN_DIR, "compose.replicas.standin.yaml"),
];

export function composeStack(
  project = "bazaar-test",
  offset = OFFSETS[project] ?? PORT_PLAN.compose.offset,
  files = STANDARD_FILES,
): ComposeStack {
  const ports = {
    http: 8080 + offset,
    web: `${8083 + offset}-${8091 + offset}`,
    admin: `${8081 + offset}-${8082 + offset}`,
  };
  return {
    project,
    ports,
    env: {
      COMPOSE_PROJECT_NAME: project,
      HTTP_PORT: String(ports.http),
      WEB_PORTS: ports.web,
      ADMIN_PORTS: ports.admin,
      // The classic builder: BuildKit would try to pull its Dockerfile frontend.
      DOCKER_BUILDKIT: "0",
      COMPOSE_DOCKER_CLI_BUILD: "0",
    },
    files,
  };
}

/**
 * What a person types, from the repository, to reach this stack with compose: its
 * project and both files, in Compose v1's spelling (Debian 12's docker-compose 1.29,
 * which the pass uses) and v2's (`docker compose`, a plugin v1 does not have).
 */
export function composeCommands(stack: ComposeStack, args: string) {
  const files = stack.files.map((f) => `-f ${path.relative(REPO_ROOT, f)}`).join(" ");
  return {
    v1: `docker-compose -p ${stack.project} ${files} ${args}`,
    v2: `docker compose -p ${stack.project} ${files} ${args}`,
  };
}

/** The lines `bun run compose:standin up` ends with: where the store is, how to sign in, and how to read the password again. */
export function standinBanner(stack: ComposeStack, adminPassword: string | undefined): string[] {
  const own = (stack.project === "bazaar-standin" ? "" : ` ${stack.project}`) +
    (stack.files === GALERA_FILES ? " --ha" : "");
  const show = composeCommands(stack, "run --rm secrets --show-admin-password");
  return [
    `the store:  http://127.0.0.1:${stack.ports.http}/   (admin: /admin, user admin${
      adminPassword ? `, password ${adminPassword}` : ""
    })`,
    `the admin password again: bun run compose:standin password${own}`,
    `  or: ${show.v1}`,
    `  (Compose v2: ${show.v2})`,
    `stop it:    bun run compose:standin down${own}`,
  ];
}

// A user's .env must not change what the pass tests: compose reads the one named here
// instead of the project directory's (an empty file: every setting from stack.env).
function base(stack: ComposeStack) {
  const envFile = path.join(REPO_ROOT, ".local/docker/empty.env");
  mkdirSync(path.dirname(envFile), { recursive: true });
  writeFileSync(envFile, "");
  return [
    "docker-compose",
    "--project-directory",
    REPO_ROOT,
    "--env-file",
    envFile,
    ...stack.files.flatMap((f) => ["-f", f]),
  ];
}

/** `docker-compose <args>` for this stack; throws with its output on failure. */
export function compose(
  stack: ComposeStack,
  args: string[],
  opts: { allowFail?: boolean; input?: string } = {},
) {
  return sh([...base(stack), ...args], { env: stack.env, clean: true, ...opts });
}

/** `docker-compose <args>` with its output streamed to `log` line by line (for up --build). */
export async function composeStreamed(stack: ComposeStack, args: string[], log: Log) {
  const proc = spawn([...base(stack), ...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...stack.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let tail: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of s) {
      buf += new TextDecoder().decode(chunk);
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        log(l);
        tail = [...tail.slice(-40), l];
      }
    }
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const code = await proc.exited;
  if (code !== 0) {
    throw new Error(`docker-compose ${args.join(" ")} failed (exit ${code}):\n${tail.join("\n")}`);
  }
}

/**
 * The containers of a service, by compose's labels (docker is quicker than
 * docker-compose): all its replicas, or the one numbered `number`; one-off runs aside.
 */
export function containersOf(
  stack: ComposeStack,
  service: string,
  opts: { number?: string; running?: boolean } = {},
): string[] {
  const filters = [
    `label=com.docker.compose.project=${stack.project}`,
    `label=com.docker.compose.service=${service}`,
    "label=com.docker.compose.oneoff=False",
  ];
  if (opts.number) filters.push(`label=com.docker.compose.container-number=${opts.number}`);
  return sh(["docker", "ps", opts.running ? "-q" : "-aq", ...filters.flatMap((f) => ["--filter", f])]).out
    .trim().split("\n").filter(Boolean);
}

/**
 * A replica is named as HAProxy names its server: "web-2" is the web service's replica
 * number 2; any other name is a service, all its containers.
 */
export function containersNamed(stack: ComposeStack, name: string) {
  const replica = /^(web|admin)-(\d+)$/.exec(name);
  return replica ? containersOf(stack, replica[1]!, { number: replica[2]! }) : containersOf(stack, name);
}

/** The container id of a replica or of a service's first container ("" when there is none). */
export const containerOf = (stack: ComposeStack, name: string) => containersNamed(stack, name)[0] ?? "";

/** The running replicas of a service ("web-1", "web-2", …) by their container hostname (what the pages show). */
export function replicasByHostname(stack: ComposeStack, service: "web" | "admin"): Map<string, string> {
  const byHost = new Map<string, string>();
  for (const id of containersOf(stack, service, { running: true })) {
    const c = JSON.parse(sh(["docker", "inspect", id]).out)[0] as {
      Config: { Hostname: string; Labels: Record<string, string> };
    };
    byHost.set(c.Config.Hostname, `${service}-${c.Config.Labels["com.docker.compose.container-number"]}`);
  }
  return byHost;
}

/** `docker inspect` of a container, parsed. */
export function inspect(id: string) {
  return JSON.parse(sh(["docker", "inspect", id]).out)[0] as {
    Id: string;
    Name: string;
    State: {
      /** The main process's pid on the host (0 when it is not running). */
      Pid: number;
      Status: string;
      Running: boolean;
      StartedAt: string;
      ExitCode: number;
      Health?: { Status: string };
    };
    Image: string;
    Config: { Hostname: string; Env: string[] };
    NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null }> };
  };
}

/** Waits until every container of each listed service (or replica, "web-3") is running and healthy (or has no health check). */
export async function untilHealthy(stack: ComposeStack, services: string[], timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = services.flatMap((s) => {
      const ids = containersNamed(stack, s);
      if (!ids.length) return [{ s, ok: false, why: "no container" }];
      return ids.map((id) => {
        const st = inspect(id).State;
        return {
          s,
          ok: st.Running && (!st.Health || st.Health.Status === "healthy"),
          why: st.Health?.Status ?? st.Status,
        };
      });
    });
    if (states.every((x) => x.ok)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `not healthy after ${timeoutMs / 1000} s: ${
          states.filter((x) => !x.ok).map((x) => `${x.s} (${x.why})`).join(", ")
        }`,
      );
    }
    await Bun.sleep(1000);
  }
}

/** Every service compose.yaml defines (one-shot ones included). */
export const services = (stack: ComposeStack) => {
  const key = stack.files.join("\n");
  if (!serviceNames.has(key)) {
    serviceNames.set(key, compose(stack, ["config", "--services"]).out.trim().split("\n"));
  }
  return serviceNames.get(key)!;
};
const serviceNames = new Map<string, string[]>();

/** The long-running services (all but one-shot ones, which exit when done). */
export const ONE_SHOT = new Set(["secrets"]);

/**
 * Builds and starts the stack (`up -d --build`) and waits until every long-running
 * service is healthy. Docker's layer cache keeps a second call quick.
 */
export async function up(stack: ComposeStack, log: Log) {
  // The engine's events while the stack comes up (start, health, exit of each
  // container), kept for the start-order test: the engine itself remembers only its
  // last thousand or so, and the tests' probe containers soon push these out.
  const events = spawn([
    "docker",
    "events",
    "--filter",
    `label=com.docker.compose.project=${stack.project}`,
    "--format",
    "{{json .}}",
  ], { stdout: "pipe", stderr: "ignore" });
  const text = new Response(events.stdout).text();
  try {
    await composeStreamed(stack, ["up", "-d", "--build", "--remove-orphans"], log);
    await untilHealthy(stack, services(stack).filter((s) => !ONE_SHOT.has(s)));
  } finally {
    events.kill();
    writeFileSync(upEventsFile(stack), await text);
  }
}

/** Where up() keeps the engine's events of the last up of a project (JSON lines). */
export const upEventsFile = (stack: ComposeStack) =>
  path.join(REPO_ROOT, `.local/docker/${stack.project}-up-events.jsonl`);

/** Where down() appends each service's last log lines before the containers go. */
export const downLogsFile = (stack: ComposeStack) =>
  path.join(REPO_ROOT, `.local/docker/${stack.project}-logs.txt`);

/**
 * `down` (with -v: the volumes too, so the next up starts from the seed). The
 * containers' last log lines are kept first (downLogsFile): once they are gone, a
 * failed check could not be looked into.
 */
export async function down(stack: ComposeStack, log: Log, volumes = true) {
  const logs = compose(stack, ["logs", "--no-color", "--timestamps", "--tail=300"], { allowFail: true });
  mkdirSync(path.dirname(downLogsFile(stack)), { recursive: true });
  // The latest downs only: past a few MB the file starts again.
  if (existsSync(downLogsFile(stack)) && statSync(downLogsFile(stack)).size > 5_000_000) {
    rmSync(downLogsFile(stack));
  }
  appendFileSync(
    downLogsFile(stack),
    `\n===== down${volumes ? " -v" : ""} at ${new Date().toISOString()} =====\n${logs.out}${logs.err}`,
  );
  await composeStreamed(stack, ["down", "--remove-orphans", ...(volumes ? ["-v"] : []), "-t", "20"], log);
}

/** True when every long-running service of the stack has a running container. */
export function isUp(stack: ComposeStack) {
  return services(stack).filter((s) => !ONE_SHOT.has(s)).every((s) => {
    const ids = containersOf(stack, s);
    return ids.length > 0 && ids.every((id) => inspect(id).State.Running);
  });
}
