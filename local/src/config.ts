// What a stack is configured with: ports, data dir, secrets. Options win over the
// environment, the environment over the defaults (the design's ports).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chooseSecret, chooseValue, envName, newSecret, type SecretName } from "@bazaar/lib/secrets.ts";

export const REPO_ROOT = path.resolve(import.meta.dir, "../..");

export const PORT_DEFAULTS = {
  store: 8080,
  stats: 8404,
  db: 3306,
  redis: 6379,
  cache: 8079,
  api: 5003,
  adminApi: 5002,
  web1: 8083,
  web2: 8084,
  admin1: 8081,
  admin2: 8082,
};
/** The web and admin servers beyond the first two have optional keys: web3 … web9, admin3 … admin9. */
type ExtraServerPort = `${ServerTier}${3 | 4 | 5 | 6 | 7 | 8 | 9}`;
export type Ports = typeof PORT_DEFAULTS & Partial<Record<ExtraServerPort, number>>;

/** The two tiers behind the proxy, each as many servers as asked for. */
export type ServerTier = "web" | "admin";
export type Servers = Record<ServerTier, number>;
/** The design's topology: two of each. */
export const DEFAULT_SERVERS: Servers = { web: 2, admin: 2 };
/**
 * At most this many of each: proxy/haproxy.cfg has a server line for each of them
 * (the local stack) and as many slots in its server-template (compose's replicas).
 */
export const MAX_SERVERS = 9;
export const SERVERS_ENV: Record<ServerTier, string> = { web: "WEB_SERVERS", admin: "ADMIN_SERVERS" };

/** How many servers of each tier: options, else WEB_SERVERS / ADMIN_SERVERS, else two. */
export function resolveServers(given: Partial<Servers> | undefined, env: Env): Servers {
  const servers = { ...DEFAULT_SERVERS };
  for (const tier of Object.keys(servers) as ServerTier[]) {
    const raw = given?.[tier] ?? env[SERVERS_ENV[tier]];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_SERVERS) {
      throw new Error(`${SERVERS_ENV[tier]}: a whole number from 1 to ${MAX_SERVERS}, not ${raw}`);
    }
    servers[tier] = n;
  }
  return servers;
}

/** The Ports key of a tier's n-th server (web1, admin3, …). */
export const serverPortKey = (tier: ServerTier, n: number) => `${tier}${n}` as keyof Ports;

/**
 * Where a server beyond the second listens unless its own variable (WEB3_PORT, …)
 * says: web-n on WEB1_PORT + n − 1 (8085 … 8091, right after web-2), admin-n on
 * ADMIN1_PORT + n + 9 (8093 … 8099: admin-2's next ports are web's).
 */
const extraServerPort = (
  tier: ServerTier,
  n: number,
  ports: Ports,
) => (tier === "web" ? ports.web1 + n - 1 : ports.admin1 + n + 9);

/** The ports a stack with these servers uses (web-2's is not one when WEB_SERVERS=1). */
export function portKeysInUse(ports: Ports, servers: Servers): (keyof Ports)[] {
  return (Object.keys(ports) as (keyof Ports)[]).filter((k) => {
    const m = /^(web|admin)(\d+)$/.exec(k);
    return !m || Number(m[2]) <= servers[m[1] as ServerTier];
  });
}

/** The environment variable that sets each port. */
export const PORT_ENV: Record<keyof Ports, string> = {
  store: "STORE_PORT",
  stats: "STATS_PORT",
  db: "DB_PORT",
  redis: "REDIS_PORT",
  cache: "CACHE_PORT",
  api: "API_PORT",
  adminApi: "ADMIN_API_PORT",
  web1: "WEB1_PORT",
  web2: "WEB2_PORT",
  admin1: "ADMIN1_PORT",
  admin2: "ADMIN2_PORT",
  ...(Object.fromEntries(
    (["web", "admin"] as const).flatMap((tier) =>
      [3, 4, 5, 6, 7, 8, 9].map((n) => [`${tier}${n}`, `${tier.toUpperCase()}${n}_PORT`])
    ),
  ) as Record<ExtraServerPort, string>),
};

type Env = Record<string, string | undefined>;

export function resolvePorts(
  given: Partial<Ports> | undefined,
  env: Env,
  servers: Servers = DEFAULT_SERVERS,
): Ports {
  const ports: Ports = { ...PORT_DEFAULTS };
  const set = (key: keyof Ports, fallback: number) => {
    const raw = given?.[key] ?? env[PORT_ENV[key]];
    if (raw === undefined || raw === "") return void (ports[key] = fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${PORT_ENV[key]}: not a port: ${raw}`);
    ports[key] = n;
  };
  for (const key of Object.keys(PORT_DEFAULTS) as (keyof typeof PORT_DEFAULTS)[]) {
    set(key, PORT_DEFAULTS[key]);
  }
  // After the first two, so that web-3 follows where web-1 was put.
  for (const tier of ["web", "admin"] as const) {
    for (let n = 3; n <= servers[tier]; n++) set(serverPortKey(tier, n), extraServerPort(tier, n, ports));
  }
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other) throw new Error(`${PORT_ENV[key as keyof Ports]} and ${other} are both ${port}`);
    seen.set(port, PORT_ENV[key as keyof Ports]);
  }
  return ports;
}

/** Secrets shared between the tiers; fresh random ones per stack unless set. */
export type Secrets = {
  API_TOKEN: string;
  ADMIN_API_TOKEN: string;
  SRH_TOKEN: string;
  SESSION_SECRET: string;
  ADMIN_USER: string;
  ADMIN_PASSWORD: string;
  /** True when ADMIN_PASSWORD was generated (the CLI prints it). */
  adminPasswordGenerated: boolean;
  API_DB_PASSWORD: string;
  ADMIN_DB_PASSWORD: string;
  /** HAProxy's stats page login (proxy/haproxy.cfg); compose publishes no stats page, so it is the local stack's only. */
  STATS_USER: string;
  STATS_PASSWORD: string;
  /** The proxy signs request ids with it, web checks them (lib/src/request-id.ts). */
  REQUEST_ID_KEY: string;
};

/**
 * The same names, checks and generator as compose's --init-secrets (lib/src/secrets.ts).
 * The database passwords must survive restarts (they are stored in the data dir);
 * the rest need not, every start hands them to every tier afresh.
 */
export function resolveSecrets(given: Partial<Secrets> | undefined, env: Env, dataDir: string): Secrets {
  const pick = (k: keyof Secrets & string) => (given?.[k] as string | undefined) || env[k] || undefined;
  const choose = (name: SecretName, stored?: string) =>
    chooseSecret(
      name,
      pick(envName(name) as keyof Secrets & string),
      stored === undefined ? undefined : { value: stored, from: path.join(dataDir, DB_PASSWORDS) },
    );
  const admin = choose("admin_password");
  const db = storedDbPasswords(dataDir);
  return {
    API_TOKEN: choose("api_token").value,
    ADMIN_API_TOKEN: choose("admin_api_token").value,
    SRH_TOKEN: choose("srh_token").value,
    SESSION_SECRET: choose("session_secret").value,
    ADMIN_USER: pick("ADMIN_USER") ?? "admin",
    ADMIN_PASSWORD: admin.value,
    adminPasswordGenerated: admin.source === "generated",
    API_DB_PASSWORD: choose("api_db_password", db.API_DB_PASSWORD).value,
    ADMIN_DB_PASSWORD: choose("admin_db_password", db.ADMIN_DB_PASSWORD).value,
    STATS_USER: pick("STATS_USER") ?? "stats",
    // Not one of compose's secrets (compose publishes no stats page): fresh per start unless set.
    STATS_PASSWORD: chooseValue({ bytes: 18, min: 8 }, "STATS_PASSWORD", pick("STATS_PASSWORD")).value,
    // Fresh per start unless set: web and the proxy start together, and no signed id
    // needs to outlive them.
    REQUEST_ID_KEY: choose("request_id_key").value,
  };
}

const DB_PASSWORDS = "db-passwords.json";

function storedDbPasswords(dataDir: string) {
  const file = path.join(dataDir, DB_PASSWORDS);
  if (existsSync(file)) {
    try {
      const s = JSON.parse(readFileSync(file, "utf8"));
      if (typeof s.API_DB_PASSWORD === "string" && typeof s.ADMIN_DB_PASSWORD === "string") {
        return s as { API_DB_PASSWORD: string; ADMIN_DB_PASSWORD: string };
      }
    } catch {
      // Unreadable: make new ones; the launcher sets them with ALTER USER anyway.
    }
  }
  const fresh = {
    API_DB_PASSWORD: newSecret("api_db_password"),
    ADMIN_DB_PASSWORD: newSecret("admin_db_password"),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2) + "\n", { mode: 0o600 });
  return fresh;
}
