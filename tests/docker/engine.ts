// A real Docker engine for the compose pass, on a machine that may have none and can
// pull nothing: Debian's docker.io and docker-compose (installed when missing), the
// daemons started in the background when not running (and stopped again, by pid,
// only if we started them), a Debian base image made with debootstrap from the
// mirror apt already uses, and stand-ins built on it for the images compose.yaml
// would pull (tests/docker/standin/). compose.yaml itself, our Dockerfile and
// haproxy.cfg are used as they are: the override file changes only images and the
// Dockerfile's base-image arguments.
import { spawn, spawnSync } from "bun";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT, requirePrograms } from "../../local/src/index.ts";

export const STANDIN_DIR = path.join(REPO_ROOT, "tests/docker/standin");
export const OVERRIDE_FILE = path.join(STANDIN_DIR, "compose.standin.yaml");
const STATE_DIR = path.join(REPO_ROOT, ".local/docker");
const ENGINE_STATE = path.join(STATE_DIR, "engine.json");
export const BASE_IMAGE = "local/debian:bookworm";

export type Log = (line: string) => void;
const defaultLog: Log = (line) => console.log(`[docker] ${line}`);

/** Runs a command to completion; throws with its output when it fails. */
export function sh(
  cmd: string[],
  opts: {
    env?: Record<string, string | undefined>;
    clean?: boolean;
    input?: string;
    cwd?: string;
    allowFail?: boolean;
  } = {},
) {
  const r = spawnSync(cmd, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...(opts.clean ? cleanEnv() : process.env), ...opts.env },
    stdin: opts.input === undefined ? "ignore" : new TextEncoder().encode(opts.input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = r.stdout.toString();
  const err = r.stderr.toString();
  if (!r.success && !opts.allowFail) {
    throw new Error(`${cmd.join(" ")} failed (exit ${r.exitCode}):\n${(out + err).trim().slice(-4000)}`);
  }
  return { ok: r.success, code: r.exitCode, out, err };
}

/**
 * The environment for docker-compose: only what the tools need. A test process may
 * carry the local stack's secrets (API_TOKEN, …), which compose would hand to the
 * secrets service as "from the environment" instead of generating its own.
 */
export const cleanEnv = (): Record<string, string | undefined> => {
  const keep = [
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "TMPDIR",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "NODE_EXTRA_CA_CERTS",
  ];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
};

/** Runs a long command with its output appended to a log file; throws naming the log. */
async function logged(cmd: string[], logFile: string, env?: Record<string, string | undefined>) {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = Bun.file(logFile).writer();
  fd.write(`\n$ ${cmd.join(" ")}\n`);
  const proc = spawn(cmd, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) fd.write(chunk);
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const code = await proc.exited;
  await fd.end();
  if (code !== 0) {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
    throw new Error(
      `${cmd.slice(0, 4).join(" ")}… failed (exit ${code}); its output is in ${logFile}:\n${tail}`,
    );
  }
}

const engineAnswers = () => sh(["docker", "info", "--format", "{{.ServerVersion}}"], { allowFail: true }).ok;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type EngineState = { containerd?: number; dockerd?: number };

/**
 * Makes sure the Docker engine answers: installs the Debian packages when a program
 * is missing, starts containerd and dockerd in the background when they are not
 * running (no systemd here), and records what it started so stopEngine() stops
 * exactly that. An engine that was already running is left alone.
 */
export async function ensureEngine(log: Log = defaultLog): Promise<void> {
  // Debian's packages; the same install step as the launcher's (apt-get, waited for).
  await requirePrograms({
    dockerd: { bin: "dockerd", pkg: "docker.io" },
    docker: { bin: "docker", pkg: "docker.io" },
    compose: { bin: "docker-compose", pkg: "docker-compose" },
    debootstrap: { bin: "debootstrap", pkg: "debootstrap" },
  }, { log });
  if (engineAnswers()) return;

  mkdirSync(STATE_DIR, { recursive: true });
  const state: EngineState = existsSync(ENGINE_STATE) ? JSON.parse(readFileSync(ENGINE_STATE, "utf8")) : {};
  const start = (name: "containerd" | "dockerd", cmd: string[]) => {
    if (state[name] && alive(state[name]!)) return;
    const out = Bun.file(path.join(STATE_DIR, `${name}.log`));
    // Detached from our process group: a Ctrl-C of the test run must not kill the
    // engine under a half-stopped stack; stopEngine() ends it by pid.
    const proc = spawn(cmd, { stdout: out, stderr: out, stdin: "ignore", detached: true });
    proc.unref();
    state[name] = proc.pid;
    writeFileSync(ENGINE_STATE, JSON.stringify(state));
    log(`started ${name} (pid ${proc.pid}, log .local/docker/${name}.log)`);
  };
  const containerdSock = "/run/containerd/containerd.sock";
  const containerdUp = () =>
    existsSync(containerdSock) && sh(["ctr", "--address", containerdSock, "version"], { allowFail: true }).ok;
  if (!containerdUp()) {
    start("containerd", ["containerd"]);
    await until(containerdUp, 30_000, "containerd did not answer on its socket");
  }
  start("dockerd", ["dockerd", `--containerd=${containerdSock}`]);
  await until(engineAnswers, 60_000, "dockerd did not answer (see .local/docker/dockerd.log)");
}

/** Stops the daemons ensureEngine() started (and only those), waiting for them to exit. */
export async function stopEngine(log: Log = defaultLog): Promise<void> {
  if (!existsSync(ENGINE_STATE)) return;
  const state: EngineState = JSON.parse(readFileSync(ENGINE_STATE, "utf8"));
  for (const name of ["dockerd", "containerd"] as const) {
    const pid = state[name];
    if (!pid || !alive(pid)) continue;
    process.kill(pid, "SIGTERM");
    try {
      await until(() => !alive(pid), 30_000, `${name} did not stop`);
    } catch {
      process.kill(pid, "SIGKILL");
    }
    log(`stopped ${name} (pid ${pid})`);
  }
  rmSync(ENGINE_STATE, { force: true });
}

async function until(check: () => boolean, ms: number, message: string) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message);
    await Bun.sleep(250);
  }
}

const imageExists = (tag: string) => sh(["docker", "image", "inspect", tag], { allowFail: true }).ok;

/** The Debian mirror apt already uses (deb822 or one-line sources). */
export function aptMirror(): string {
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m.exec(text)?.[1];
    if (uri && !uri.includes("security")) return uri;
  }
  return "http://deb.debian.org/debian";
}

/** local/debian:bookworm, made once with debootstrap (kept by the engine afterwards). */
export async function ensureBaseImage(log: Log = defaultLog): Promise<void> {
  if (imageExists(BASE_IMAGE)) return;
  const root = mkdtempSync(path.join(tmpdir(), "bazaar-rootfs-"));
  try {
    log(`making ${BASE_IMAGE} with debootstrap from ${aptMirror()} (about a minute)…`);
    await logged(
      ["debootstrap", "--variant=minbase", "bookworm", root, aptMirror()],
      path.join(STATE_DIR, "debootstrap.log"),
    );
    await logged(
      ["sh", "-c", `tar -C '${root}' -c . | docker import - ${BASE_IMAGE}`],
      path.join(STATE_DIR, "debootstrap.log"),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The stand-in images, by the tag compose.standin.yaml gives them. */
export const STANDINS = {
  bun: { tag: `bazaar-standin/bun:${Bun.version}`, dockerfile: "bun.Dockerfile" },
  runtime: { tag: "bazaar-standin/distroless-cc:nonroot", dockerfile: "runtime.Dockerfile" },
  mysql: { tag: "bazaar-standin/mysql:8.4", dockerfile: "mysql.Dockerfile" },
  // compose.ha.yaml's Galera nodes: Debian 12's MariaDB, hence 10.11.
  mariadb: { tag: "bazaar-standin/mariadb:10.11", dockerfile: "mariadb.Dockerfile" },
  haproxy: { tag: "bazaar-standin/haproxy:2.8", dockerfile: "haproxy.Dockerfile" },
  redis: { tag: "bazaar-standin/redis:7", dockerfile: "redis.Dockerfile" },
  cache: { tag: "bazaar-standin/serverless-redis-http:local", dockerfile: "cache.Dockerfile" },
  node: { tag: "bazaar-standin/fresh-node:bookworm", dockerfile: "node.Dockerfile" },
} as const;

/**
 * Builds every stand-in (Docker's layer cache makes a rebuild take seconds). The bun
 * stand-in holds the Bun running this process; the cache stand-in the bridge as
 * scripts/build.ts compiles it. Their contexts are a temporary folder with that file.
 */
export async function buildStandins(log: Log = defaultLog): Promise<void> {
  const buildLog = path.join(STATE_DIR, "standin-build.log");
  for (const [name, { tag, dockerfile }] of Object.entries(STANDINS)) {
    let context = STANDIN_DIR;
    let temp: string | undefined;
    if (name === "bun" || name === "cache") {
      temp = context = mkdtempSync(path.join(tmpdir(), `bazaar-standin-${name}-`));
      if (name === "bun") {
        copyFileSync(process.execPath, path.join(context, "bun"));
        // What this machine trusts (its registry may sit behind a TLS-inspecting egress).
        const bundle = process.env.NODE_EXTRA_CA_CERTS ?? "/etc/ssl/certs/ca-certificates.crt";
        if (existsSync(bundle)) copyFileSync(bundle, path.join(context, "ca-certificates.crt"));
        else writeFileSync(path.join(context, "ca-certificates.crt"), "");
      } else await logged(["bun", "scripts/build.ts", "bridge", "--outdir", context], buildLog);
    }
    try {
      log(`building ${tag}…`);
      await logged(
        ["docker", "build", "-q", "-t", tag, "-f", path.join(STANDIN_DIR, dockerfile), context],
        buildLog,
        { DOCKER_BUILDKIT: "0" },
      );
    } finally {
      if (temp) rmSync(temp, { recursive: true, force: true });
    }
  }
}

/** Everything the compose pass needs before `up`: engine, base image, stand-ins. */
export async function prepare(log: Log = defaultLog) {
  await ensureEngine(log);
  await ensureBaseImage(log);
  await buildStandins(log);
}
