// What a stack is configured with: ports, data dir, secrets. Options win over the
// environment, the environment over the defaults (the design's ports).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

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
export type Ports = typeof PORT_DEFAULTS;

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
};

type Env = Record<string, string | undefined>;

export function resolvePorts(given: Partial<Ports> | undefined, env: Env): Ports {
  const ports = { ...PORT_DEFAULTS };
  for (const key of Object.keys(ports) as (keyof Ports)[]) {
    const raw = given?.[key] ?? env[PORT_ENV[key]];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${PORT_ENV[key]}: not a port: ${raw}`);
    ports[key] = n;
  }
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other) throw new Error(`${PORT_ENV[key as keyof Ports]} and ${other} are both ${port}`);
    seen.set(port, PORT_ENV[key as keyof Ports]);
  }
  return ports;
}

export const token = (bytes = 24) => randomBytes(bytes).toString("base64url");

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
};

/**
 * The database passwords must survive restarts (they are stored in the data
 * dir); the rest need not, every start hands them to every tier afresh.
 */
export function resolveSecrets(given: Partial<Secrets> | undefined, env: Env, dataDir: string): Secrets {
  const pick = (k: keyof Secrets & string) => (given?.[k] as string | undefined) || env[k] || undefined;
  const stored = storedDbPasswords(dataDir);
  const adminPassword = pick("ADMIN_PASSWORD");
  return {
    API_TOKEN: pick("API_TOKEN") ?? token(),
    ADMIN_API_TOKEN: pick("ADMIN_API_TOKEN") ?? token(),
    SRH_TOKEN: pick("SRH_TOKEN") ?? token(),
    SESSION_SECRET: pick("SESSION_SECRET") ?? token(32),
    ADMIN_USER: pick("ADMIN_USER") ?? "admin",
    ADMIN_PASSWORD: adminPassword ?? token(12),
    adminPasswordGenerated: !adminPassword,
    API_DB_PASSWORD: pick("API_DB_PASSWORD") ?? stored.API_DB_PASSWORD,
    ADMIN_DB_PASSWORD: pick("ADMIN_DB_PASSWORD") ?? stored.ADMIN_DB_PASSWORD,
  };
}

function storedDbPasswords(dataDir: string) {
  const file = path.join(dataDir, "db-passwords.json");
  if (existsSync(file)) {
    try {
      const s = JSON.parse(readFileSync(file, "utf8"));
      if (typeof s.API_DB_PASSWORD === "string" && typeof s.ADMIN_DB_PASSWORD === "string") return s as { API_DB_PASSWORD: string; ADMIN_DB_PASSWORD: string };
    } catch {
      // Unreadable: make new ones; the launcher sets them with ALTER USER anyway.
    }
  }
  const fresh = { API_DB_PASSWORD: token(), ADMIN_DB_PASSWORD: token() };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2) + "\n", { mode: 0o600 });
  return fresh;
}
