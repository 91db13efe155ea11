// What a stack is configured with: ports, data dir, secrets. Options win over the
// environment, the environment over the defaults (the design's ports).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chooseSecret, envName, newSecret, type SecretName } from "@bazaar/lib/secrets.ts";

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
 * The same names, checks and generator as compose's --init-secrets (lib/src/secrets.ts).
 * The database passwords must survive restarts (they are stored in the data dir);
 * the rest need not, every start hands them to every tier afresh.
 */
export function resolveSecrets(given: Partial<Secrets> | undefined, env: Env, dataDir: string): Secrets {
  const pick = (k: keyof Secrets & string) => (given?.[k] as string | undefined) || env[k] || undefined;
  const choose = (name: SecretName, stored?: string) =>
    chooseSecret(name, pick(envName(name) as keyof Secrets & string), stored === undefined ? undefined : { value: stored, from: path.join(dataDir, DB_PASSWORDS) });
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
  };
}

const DB_PASSWORDS = "db-passwords.json";

function storedDbPasswords(dataDir: string) {
  const file = path.join(dataDir, DB_PASSWORDS);
  if (existsSync(file)) {
    try {
      const s = JSON.parse(readFileSync(file, "utf8"));
      if (typeof s.API_DB_PASSWORD === "string" && typeof s.ADMIN_DB_PASSWORD === "string") return s as { API_DB_PASSWORD: string; ADMIN_DB_PASSWORD: string };
    } catch {
      // Unreadable: make new ones; the launcher sets them with ALTER USER anyway.
    }
  }
  const fresh = { API_DB_PASSWORD: newSecret("api_db_password"), ADMIN_DB_PASSWORD: newSecret("admin_db_password") };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2) + "\n", { mode: 0o600 });
  return fresh;
}
