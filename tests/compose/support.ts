// What the compose tests share: compose.yaml as Docker Compose would see it, the
// apps' config schemas (imported from the code), who connects to whom, the secrets
// service run on stand-in volumes (temporary folders), haproxy.cfg's variables, a
// Dockerfile reader and .dockerignore's matching rules. None of it needs Docker or a
// running stack.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import * as v from "valibot";
import { parse } from "yaml";
import { AdminApiEnv } from "../../admin-api/src/config.ts";
import { AdminEnv } from "../../admin/src/config.ts";
import { ApiEnv } from "../../api/src/config.ts";
import {
  CACHE,
  CONSUMERS,
  DEFAULT_SECRETS_DIR,
  DEFAULT_SRH_CONNECTION_STRING,
  type InitResult,
  initSecrets,
  PROXY,
  REDIS,
  STORE,
  TOKENS_FILE,
} from "../../lib/src/secrets/secrets.ts";
import { WebEnv } from "../../web/src/config.ts";

export const ROOT = path.resolve(import.meta.dir, "../..");
export const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

// ---- compose.yaml --------------------------------------------------------------

export type Service = {
  image?: string;
  build?: { context: string; target?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[];
  hostname?: string;
  container_name?: string;
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  ports?: string[];
  networks?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: {
    test?: string[];
    disable?: boolean;
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  volumes?: string[];
  restart?: string;
};
export type Compose = {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes?: Record<string, unknown>;
};

/** compose.yaml (or another compose file) as parsed YAML: anchors and `<<` merge keys resolved, not yet interpolated. */
export const composeRaw = (file = "compose.yaml"): unknown => parse(read(file), { merge: true });

/**
 * What a stand-in override changes of `file`'s services: the names of the services it
 * covers, those of the services `file` gives an image (both sorted), and each covered
 * service's keys and image — a stand-in override changes only `image:`, to a stand-in.
 */
export function standinChanges(standinFile: string, file: string) {
  const standin = parse(read(standinFile)) as { services: Record<string, Record<string, string>> };
  const own = parse(read(file), { merge: true }) as { services: Record<string, { image?: string }> };
  return {
    covered: Object.keys(standin.services).sort(),
    pulled: Object.entries(own.services).filter(([, s]) => s.image).map(([name]) => name).sort(),
    changes: Object.entries(standin.services).map(([name, s]) => ({
      name,
      keys: Object.keys(s),
      image: s.image,
    })),
  };
}

/**
 * Files merged as `docker compose -f a -f b` merges them: mappings key by key, the
 * later file's scalars winning; sequences (networks, ports, volumes) as their union.
 */
const mergeCompose = (a: unknown, b: unknown): unknown =>
  Array.isArray(a) && Array.isArray(b)
    ? [...new Set([...a, ...b])]
    : a && b && typeof a === "object" && typeof b === "object"
    ? Object.fromEntries(
      [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
        k,
        k in b
          ? (k in a
            ? mergeCompose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
            : (b as Record<string, unknown>)[k])
          : (a as Record<string, unknown>)[k],
      ]),
    )
    : b;

/**
 * Compose's variable interpolation: $$ is a literal $, ${VAR}, ${VAR:-default}
 * (unset or empty), ${VAR-default} (unset), ${VAR:?msg} / ${VAR?msg} (required), $VAR.
 */
export function interpolate(s: string, env: Record<string, string | undefined>): string {
  return s.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_all, dollar, name, colon, op, arg, bare) => {
      if (dollar === "$") return "$";
      if (bare) return env[bare] ?? "";
      const value = env[name];
      const missing = colon ? !value : value === undefined;
      if (op === "-") return missing ? arg : value!;
      if (op === "?" && missing) throw new Error(`compose.yaml requires ${name}: ${arg}`);
      return value ?? "";
    },
  );
}

const mapStrings = (x: unknown, f: (s: string) => string): unknown =>
  typeof x === "string"
    ? f(x)
    : Array.isArray(x)
    ? x.map((y) => mapStrings(y, f))
    : x && typeof x === "object"
    ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, mapStrings(y, f)]))
    : x;

/**
 * The typed fields compose.yaml fills from a variable, converted after interpolation
 * as compose does (docker-compose 1.29's interpolation.py and compose-go both turn
 * deploy.replicas into a number): `${WEB_SERVERS:-2}` is the number 2.
 */
function convertTyped(c: Compose): Compose {
  for (const s of Object.values(c.services)) {
    const replicas = s.deploy?.replicas as unknown;
    if (typeof replicas !== "string") continue;
    if (!/^\d+$/.test(replicas)) throw new Error(`deploy.replicas: not a whole number: ${replicas}`);
    s.deploy!.replicas = Number(replicas);
  }
  return c;
}

/**
 * compose.yaml (and override files after it: `-f compose.yaml -f compose.replicas.yaml`)
 * as `docker compose config` would resolve it with this environment (default: none, so the defaults).
 */
export const loadCompose = (
  env: Record<string, string | undefined> = {},
  files = ["compose.yaml"],
): Compose =>
  convertTyped(
    mapStrings(files.map((f) => composeRaw(f)).reduce(mergeCompose), (s) => interpolate(s, env)) as Compose,
  );

/** Every ${VAR…} compose.yaml reads, with its default (undefined when it has none). */
export function composeVariables(): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>();
  for (const m of read("compose.yaml").matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g)) {
    vars.set(m[1]!, m[2]);
  }
  return vars;
}

/** A KEY=value file such as .env.example (comments and blank lines skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.trim());
  }
  return vars;
}

/** The networks two services share. */
export const shared = (c: Compose, a: string, b: string) =>
  (c.services[a]?.networks ?? []).filter((n) => (c.services[b]?.networks ?? []).includes(n));

/** Every service `name` can open a connection to (shares a network with). */
export const reach = (c: Compose, name: string) =>
  new Set(Object.keys(c.services).filter((other) => other !== name && shared(c, name, other).length > 0));

/**
 * "[host_ip:]published:target[/proto]" → its parts; `published` may be a range
 * ("8083-8091": each replica takes a free port of it), then `last` is its end.
 */
export function parsePort(spec: string) {
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+)(?:-(\d+))?:(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new Error(`unsupported port syntax: ${spec}`);
  const published = Number(m[2]);
  const last = m[3] === undefined ? published : Number(m[3]);
  if (last < published) throw new Error(`port range backwards: ${spec}`);
  return { hostIp: m[1] ?? "0.0.0.0", published, last, target: Number(m[4]) };
}

// ---- the apps' config schemas ------------------------------------------------------

/** What each image runs: the Dockerfile target (= the app's folder) → the env entries its code reads. */
export const APP_ENTRIES = {
  api: ApiEnv,
  "admin-api": AdminApiEnv,
  web: WebEnv,
  admin: AdminEnv,
} as const satisfies Record<string, v.ObjectEntries>;
export type AppDir = keyof typeof APP_ENTRIES;
export const APP_DIRS = Object.keys(APP_ENTRIES) as AppDir[];

/** The image a compose service is built from (its build target), if it is one of ours. */
export const imageOf = (s: Service): AppDir | undefined => {
  const t = s.build?.target;
  return t && t in APP_ENTRIES ? (t as AppDir) : undefined;
};

/** The one-shot secrets service: one of our images, run with --init-secrets. */
export const isSecretsService = (s: Service) => !!imageOf(s) && (s.command ?? []).includes("--init-secrets");

/** The app a compose service runs (its build target), if it is one of ours and runs as that app. */
export const appOf = (s: Service): AppDir | undefined => (isSecretsService(s) ? undefined : imageOf(s));

/** The default an entry falls back to, as the string the environment would carry. */
export const entryDefault = (schema: v.GenericSchema): string | undefined => {
  const d = v.getDefault(schema as v.OptionalSchema<v.GenericSchema, unknown>);
  return d === undefined ? undefined : String(d);
};

// ---- who talks to whom ------------------------------------------------------------------

const SRH_IMAGE = /^hiett\/serverless-redis-http:/;

/** The ports the images we do not build listen on (their documented defaults). */
const IMAGE_PORTS: [RegExp, (s: Service) => number][] = [
  [/^mysql:/, () => 3306],
  [/^redis:/, () => 6379],
  [SRH_IMAGE, (s) => Number(s.environment?.SRH_PORT ?? 80)],
  [/^haproxy:/, (s) => Number((s.environment?.STORE_BIND ?? "*:80").split(":").at(-1))],
];

/** The port a service listens on inside its container. */
export function listenPort(s: Service): number {
  if (appOf(s)) return Number(s.environment?.PORT);
  const found = IMAGE_PORTS.find(([re]) => re.test(s.image ?? ""));
  if (!found) throw new Error(`no known port for image ${s.image}`);
  return found[1](s);
}

export type HostRef = { from: string; via: string; host: string; port: number };

const SCHEME_PORTS: Record<string, number> = { "http:": 80, "https:": 443, "redis:": 6379, "rediss:": 6379 };

/**
 * Every host:port a service is configured to connect to: URL values (API_URL,
 * UPSTASH_REDIS_REST_URL, SRH_CONNECTION_STRING, …), X_HOST with X_PORT (DB_HOST),
 * for the proxy the servers haproxy.cfg resolves with its environment, and for SRH
 * in file mode the Redis of the tokens.json the secrets service writes.
 */
export function hostRefs(c: Compose, from: string): HostRef[] {
  const s = c.services[from]!;
  const env = s.environment ?? {};
  const refs: HostRef[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      const u = new URL(value);
      refs.push({ from, via: key, host: u.hostname, port: Number(u.port || SCHEME_PORTS[u.protocol]) });
    } else if (key.endsWith("_HOST") && key !== "HOST") {
      refs.push({ from, via: key, host: value, port: Number(env[key.replace(/_HOST$/, "_PORT")]) });
    }
  }
  if (/^haproxy:/.test(s.image ?? "")) {
    for (const { name, address } of haproxyServers(env)) {
      const [host, port] = address.split(":");
      refs.push({ from, via: `haproxy.cfg server ${name}`, host: host!, port: Number(port) });
    }
  }
  if (SRH_IMAGE.test(s.image ?? "") && env.SRH_MODE === "file") {
    // As initSecrets writes it: the secrets service's SRH_CONNECTION_STRING, else the default.
    const secrets = Object.values(c.services).find(isSecretsService);
    const u = new URL(secrets?.environment?.SRH_CONNECTION_STRING || DEFAULT_SRH_CONNECTION_STRING);
    refs.push({
      from,
      via: `${TOKENS_FILE} (the secrets service's)`,
      host: u.hostname,
      port: Number(u.port || SCHEME_PORTS[u.protocol]),
    });
  }
  return refs;
}

// ---- secrets --------------------------------------------------------------------------

/** Where each service that reads secrets has its own secrets volume mounted (its NAME_FILE paths). */
export const SECRETS_MOUNT = "/run/bazaar-secrets";

/**
 * The folders initSecrets writes under its SECRETS_DIR, each of which must be a volume
 * (it refuses to run without every one: runSecrets below proves this list complete).
 */
export const SECRET_FOLDERS: string[] = [STORE, ...Object.keys(CONSUMERS), CACHE, PROXY, REDIS];

/** The secrets service's name (exactly one service runs --init-secrets). */
export function secretsService(c: Compose): string {
  const names = Object.keys(c.services).filter((n) => isSecretsService(c.services[n]!));
  if (names.length !== 1) {
    throw new Error(`expected one service running --init-secrets, found: ${names.join(", ") || "none"}`);
  }
  return names[0]!;
}

/** The folder of secrets a service is given (CONSUMERS' key): the app it runs (web-1: web), else its name (db, cache). */
export const consumerOf = (c: Compose, name: string) => appOf(c.services[name]!) ?? name;

export type Mount = { source: string; target: string; options: string[]; named: boolean };

/** A short-syntax volumes entry, "source:target[:options]" (source: a named volume, or a path for a bind mount). */
export function parseMount(spec: string): Mount {
  const [source, target, options, ...rest] = spec.split(":");
  if (!source || !target || rest.length) throw new Error(`unsupported volume syntax: ${spec}`);
  return { source, target, options: options ? options.split(",") : [], named: !/^[./~]/.test(source) };
}

export const mounts = (s: Service) => (s.volumes ?? []).map(parseMount);

/** The volumes the secrets service writes: volume → the folder (of SECRET_FOLDERS) it is mounted as. */
export function secretVolumes(c: Compose): Map<string, string> {
  const s = c.services[secretsService(c)]!;
  const dir = s.environment?.SECRETS_DIR || DEFAULT_SECRETS_DIR;
  const volumes = new Map<string, string>();
  for (const m of mounts(s)) {
    if (m.named && path.posix.dirname(m.target) === dir) {
      volumes.set(m.source, path.posix.basename(m.target));
    }
  }
  return volumes;
}

export type SecretsRun = {
  /** What initSecrets returned, or the error it threw. */
  result?: InitResult;
  error?: Error;
  /** Each named volume's files afterwards (name → content). */
  volumes: Map<string, Map<string, string>>;
  /** A service's view of those files: a path in its container, through its own mounts; ENOENT otherwise. */
  readFile: (service: string) => (file: string) => string;
};

const enoent = (file: string) =>
  Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: "ENOENT" });

/**
 * What the secrets service leaves in the volumes, without Docker: each named volume
 * is an empty temporary folder, the service's SECRETS_DIR (default /secrets) is a
 * folder whose entries are its mounts of them, and initSecrets runs there with the
 * service's environment as compose gives it. Everything is read back and the
 * folders deleted before this returns.
 */
export function runSecrets(c: Compose): SecretsRun {
  const root = mkdtempSync(path.join(tmpdir(), "bazaar-compose-volumes-"));
  const volumes = new Map<string, Map<string, string>>();
  try {
    const volumeDir = (name: string) => path.join(root, "volumes", name);
    for (const name of Object.keys(c.volumes ?? {})) mkdirSync(volumeDir(name), { recursive: true });
    const s = c.services[secretsService(c)]!;
    const env = s.environment ?? {};
    const container = env.SECRETS_DIR || DEFAULT_SECRETS_DIR;
    const dir = path.join(root, "secrets-service", container);
    mkdirSync(dir, { recursive: true });
    for (const m of mounts(s)) {
      if (!m.named || path.posix.dirname(m.target) !== container) continue;
      // An undeclared volume: compose refuses the file; here it is a folder that is not there.
      symlinkSync(volumeDir(m.source), path.join(dir, path.posix.basename(m.target)));
    }
    let result: InitResult | undefined;
    let error: Error | undefined;
    try {
      result = initSecrets(dir, env);
    } catch (err) {
      error = err as Error;
    }
    for (const name of Object.keys(c.volumes ?? {})) {
      volumes.set(
        name,
        new Map(
          readdirSync(volumeDir(name)).map((f) => [f, readFileSync(path.join(volumeDir(name), f), "utf8")]),
        ),
      );
    }
    const readFile = (service: string) => (file: string) => {
      const m = mounts(c.services[service]!).find((m) => m.named && path.posix.dirname(file) === m.target);
      const content = m && volumes.get(m.source)?.get(path.posix.basename(file));
      if (content === undefined) throw enoent(file);
      return content;
    };
    return { result, error, volumes, readFile };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---- haproxy.cfg ------------------------------------------------------------------------

/** The "${VAR-default}" variables haproxy.cfg reads, with their defaults. */
export function haproxyVariables(cfg = read("proxy/haproxy.cfg")): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>();
  for (const m of cfg.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}/g)) vars.set(m[1]!, m[2]);
  return vars;
}

/**
 * The lines HAProxy reads with this environment: its conditional blocks evaluated
 * (`.if [!]defined(VAR)`, `.else`, `.endif`, nested; the only condition the file uses).
 */
export function haproxyActiveLines(
  env: Record<string, string | undefined>,
  cfg = read("proxy/haproxy.cfg"),
): string[] {
  const stack: { on: boolean; taken: boolean }[] = [];
  const on = () => stack.every((b) => b.on);
  const lines: string[] = [];
  for (const line of cfg.split("\n")) {
    const t = line.trim();
    if (t.startsWith(".if")) {
      // Terms `defined(X)` or `!defined(X)`, joined by `||` (proxy/internal.cfg).
      const terms = t.replace(/^\.if\s+/, "").split(/\s*\|\|\s*/).map((term) => {
        const m = /^(!?)defined\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(term);
        if (!m) throw new Error(`haproxy.cfg: a condition this reader does not know: ${t}`);
        return (env[m[2]!] !== undefined) !== (m[1] === "!");
      });
      const value = terms.some(Boolean);
      stack.push({ on: value, taken: value });
    } else if (t === ".else") {
      const b = stack.at(-1)!;
      b.on = !b.taken;
    } else if (t === ".endif") {
      stack.pop();
    } else if (on()) lines.push(line);
  }
  if (stack.length) throw new Error("haproxy.cfg: an .if without its .endif");
  return lines;
}

/**
 * `haproxy -c` on a cfg of proxy/ with only this environment (plus PATH to find
 * haproxy): nothing leaks in from the test's shell.
 */
export const haproxyCheck = (env: Record<string, string>, cfg = "proxy/haproxy.cfg") =>
  Bun.spawnSync(["haproxy", "-c", "-f", path.join(ROOT, cfg)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });

/**
 * The backend servers haproxy.cfg has with this environment: each `server` line's
 * address ("host:port"), and each `server-template`'s, with how many slots it fills
 * from that name's DNS answers (web-1 … web-9 for compose's replicas).
 */
export function haproxyServers(env: Record<string, string | undefined>, cfg = read("proxy/haproxy.cfg")) {
  const servers: { name: string; address: string; slots?: number }[] = [];
  const expand = (word: string) =>
    word.replace(/^"|"$/g, "").replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}/g,
      (_, name, def) => env[name] ?? def ?? "",
    );
  for (const line of haproxyActiveLines(env, cfg)) {
    const server = /^\s*server\s+(\S+)\s+(\S+)/.exec(line);
    if (server) servers.push({ name: server[1]!, address: expand(server[2]!) });
    const template = /^\s*server-template\s+(\S+)\s+(?:1-)?(\d+)\s+(\S+)/.exec(line);
    if (template) {
      servers.push({ name: `${template[1]}*`, address: expand(template[3]!), slots: Number(template[2]) });
    }
  }
  return servers;
}

// ---- Dockerfile -----------------------------------------------------------------------

export type Instruction = { op: string; args: string; line: number };
export type Stage = { base: string; name?: string; instructions: Instruction[] };

/** A Dockerfile's global ARGs and its stages (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string) {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + " " + lines[++i]!.trim();
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile:${start + 1}: cannot read "${line}"`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === "FROM") {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`Dockerfile:${start + 1}: cannot read FROM ${args}`);
      stages.push({ base: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length === 0 && op === "ARG") {
      const [k, val] = args.split("=", 2);
      globalArgs.set(k!, val);
    } else {
      stages.at(-1)!.instructions.push({ op, args, line: start + 1 });
    }
  }
  return { globalArgs, stages };
}

/** A stage's instructions with those of the stages it is built FROM first (what the image inherits). */
export function inherited(stages: Stage[], name: string): Instruction[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`Dockerfile has no stage "${name}"`);
  const parent = stages.find((s) => s.name === stage.base);
  return [...(parent ? inherited(stages, parent.name!) : []), ...stage.instructions];
}

/** JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD arguments, or null for the shell form. */
export function execForm(args: string): string[] | null {
  try {
    const parsed = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === "string") ? parsed : null;
  } catch {
    return null;
  }
}

// ---- .dockerignore ------------------------------------------------------------------------

/**
 * Docker's .dockerignore rules: patterns match a path or any of its parent
 * directories; `*` and `?` stay within one path segment, `**` spans any number;
 * `!` re-includes; the last matching pattern wins.
 */
export function dockerignore(text: string) {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, "");
      let re = "";
      for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i]!;
        if (ch === "*" && pattern[i + 1] === "*") {
          i++;
          if (pattern[i + 1] === "/") {
            i++;
            re += "(?:.*/)?";
          } else re += ".*";
        } else if (ch === "*") re += "[^/]*";
        else if (ch === "?") re += "[^/]";
        else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  /** Whether `file` (relative to the context, "/"-separated) is left out of the build context. */
  return (file: string) => {
    const parts = file.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

// ---- processes ----------------------------------------------------------------------------

/** A free port on 127.0.0.1 (the OS picks it), so tests never use the design's ports. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    }).on("error", reject);
  });

/** Reads a process's stdout until a line containing `text` (returns everything read so far, "" on timeout or exit). */
export async function untilLine(
  stdout: ReadableStream<Uint8Array>,
  text: string,
  timeoutMs = 25_000,
): Promise<string> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  let out = "";
  try {
    while (!out.includes(text)) {
      const { value, done } = await reader.read();
      if (done) return "";
      out += decoder.decode(value, { stream: true });
    }
    return out;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}
