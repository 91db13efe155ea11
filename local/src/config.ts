// What a stack is configured with besides its ports (ports.ts): how many web and
// admin servers, and the secrets. Options win over the environment, the environment
// over the defaults.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  chooseSecret,
  chooseValue,
  envName,
  newSecret,
  type SecretName,
} from "@bazaar/lib/secrets/secrets.ts";

export const REPO_ROOT = path.resolve(import.meta.dir, "../..");

/** Variables, as process.env holds them. */
export type Env = Record<string, string | undefined>;

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
  return resolveCounts(DEFAULT_SERVERS, SERVERS_ENV, MAX_SERVERS, given, env);
}

/** The two APIs, each run as many times as asked for (api-1 … behind proxy/internal.cfg). */
export type ApiTier = "api" | "adminApi";
export type ApiReplicas = Record<ApiTier, number>;
/** At most this many of each: proxy/internal.cfg's server lines and server-template slots. */
export const MAX_API_SERVERS = 4;
export const API_SERVERS_ENV: Record<ApiTier, string> = { api: "API_SERVERS", adminApi: "ADMIN_API_SERVERS" };

/**
 * How many instances of each API: options, else API_SERVERS / ADMIN_API_SERVERS, else
 * one each — two each with a replicated database (DB_NODES=3): a cluster that
 * survives a node's death is worth little behind one api a `kill -9` stops.
 *
 * @example resolveApiReplicas(undefined, {}, 3) // { api: 2, adminApi: 2 }
 */
export function resolveApiReplicas(
  given: Partial<ApiReplicas> | undefined,
  env: Env,
  dbNodes = 1,
): ApiReplicas {
  const each = dbNodes > 1 ? 2 : 1;
  return resolveCounts({ api: each, adminApi: each }, API_SERVERS_ENV, MAX_API_SERVERS, given, env);
}

/** Each count from the options, else its variable, else its default; 1 to `max`. */
function resolveCounts<K extends string>(
  defaults: Record<K, number>,
  names: Record<K, string>,
  max: number,
  given: Partial<Record<K, number>> | undefined,
  env: Env,
): Record<K, number> {
  const counts = { ...defaults };
  for (const key of Object.keys(counts) as K[]) {
    const raw = given?.[key] ?? env[names[key]];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new Error(`${names[key]}: a whole number from 1 to ${max}, not ${raw}`);
    }
    counts[key] = n;
  }
  return counts;
}

/** DB_NODES: the database's nodes. */
export const DB_NODES_ENV = "DB_NODES";
/** One MariaDB (the default), or a Galera cluster of three (local/src/galera.ts). */
const DB_NODE_COUNTS = [1, 3];

/**
 * How many database nodes: the option, else DB_NODES, else 1.
 *
 * @example resolveDbNodes(undefined, { DB_NODES: "3" }) // 3
 */
export function resolveDbNodes(given: number | undefined, env: Env): number {
  const raw = given ?? env[DB_NODES_ENV];
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!DB_NODE_COUNTS.includes(n)) throw new Error(`${DB_NODES_ENV}: 1 or 3, not ${raw}`);
  return n;
}

/** Secrets shared between the tiers; fresh random ones per stack unless set. */
export type Secrets = {
  API_TOKEN: string;
  ADMIN_API_TOKEN: string;
  SRH_TOKEN: string;
  SESSION_SECRET: string;
  ADMIN_USER: string;
  ADMIN_PASSWORD: string;
  /** True when ADMIN_PASSWORD was generated, on this start or an earlier one (the CLI prints it). */
  adminPasswordGenerated: boolean;
  /** Where a generated ADMIN_PASSWORD is kept (the data dir); undefined when it came from the environment. */
  adminPasswordFile?: string;
  API_DB_PASSWORD: string;
  ADMIN_DB_PASSWORD: string;
  /** HAProxy's stats page login (proxy/haproxy.cfg); compose publishes no stats page, so it is the local stack's only. */
  STATS_USER: string;
  STATS_PASSWORD: string;
  /** The proxy signs request ids with it, web checks them (lib/src/request-id.ts). */
  REQUEST_ID_KEY: string;
  /** Redis asks every client for it; the bridge gives it (its connection string). */
  REDIS_PASSWORD: string;
};

/**
 * The same names, checks and generator as compose's --init-secrets (lib/src/secrets/secrets.ts).
 * The database passwords and a generated admin password must survive restarts (they
 * are kept in the data dir); the rest need not, every start hands them to every tier afresh.
 */
export function resolveSecrets(given: Partial<Secrets> | undefined, env: Env, dataDir: string): Secrets {
  const pick = (k: keyof Secrets & string) => (given?.[k] as string | undefined) || env[k] || undefined;
  const choose = (name: SecretName, stored?: string) =>
    chooseSecret(
      name,
      pick(envName(name) as keyof Secrets & string),
      stored === undefined ? undefined : { value: stored, from: path.join(dataDir, DB_PASSWORDS) },
    );
  const admin = keptAdminPassword(dataDir, pick("ADMIN_PASSWORD"));
  const db = storedDbPasswords(dataDir);
  return {
    API_TOKEN: choose("api_token").value,
    ADMIN_API_TOKEN: choose("admin_api_token").value,
    SRH_TOKEN: choose("srh_token").value,
    SESSION_SECRET: choose("session_secret").value,
    ADMIN_USER: pick("ADMIN_USER") ?? "admin",
    ADMIN_PASSWORD: admin.value,
    adminPasswordGenerated: admin.source !== "env",
    adminPasswordFile: admin.file,
    API_DB_PASSWORD: choose("api_db_password", db.API_DB_PASSWORD).value,
    ADMIN_DB_PASSWORD: choose("admin_db_password", db.ADMIN_DB_PASSWORD).value,
    STATS_USER: pick("STATS_USER") ?? "stats",
    // Not one of compose's secrets (compose publishes no stats page): fresh per start unless set.
    STATS_PASSWORD: chooseValue({ bytes: 18, min: 8 }, "STATS_PASSWORD", pick("STATS_PASSWORD")).value,
    // Fresh per start unless set: web and the proxy start together, and no signed id
    // needs to outlive them.
    REQUEST_ID_KEY: choose("request_id_key").value,
    // Fresh per start unless set, like the tokens: Redis keeps nothing across starts.
    REDIS_PASSWORD: choose("redis_password").value,
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

export const ADMIN_PASSWORD_FILE = "admin-password";

/**
 * ADMIN_PASSWORD when set; else the one generated on an earlier start, kept in the
 * data dir as compose keeps its own (a shop owner must not be locked out by a
 * restart); else a new one, kept there. --fresh deletes it, so the next is new.
 */
function keptAdminPassword(dataDir: string, given: string | undefined) {
  const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
  const kept = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  const chosen = chooseSecret("admin_password", given, kept ? { value: kept, from: file } : undefined);
  if (chosen.source === "generated") {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${chosen.value}\n`, { mode: 0o600 });
  }
  return { ...chosen, file: chosen.source === "env" ? undefined : file };
}
