// The stack's ports: one table of names and the design's numbers, one rule for the
// servers beyond the second, and what is read from them: the variable that sets each
// (its name in capitals + _PORT), the addresses a stack tells (stack.urls, stack.env)
// and HAProxy's binds and server addresses.
import {
  type ApiReplicas,
  type ApiTier,
  DEFAULT_SERVERS,
  type Env,
  type Servers,
  type ServerTier,
} from "./config.ts";

export const HOST = "127.0.0.1";
export const http = (port: number) => `http://${HOST}:${port}`;

/**
 * The design's ports, by name. Each is set by its name in capitals + _PORT
 * (STORE_PORT, ADMIN_API_PORT, WEB1_PORT); server n of a tier is `web<n>`, `admin<n>`.
 */
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
} as const;

/**
 * Server n of a tier beyond the second listens on its first's port + n − 1 + this
 * (unless WEB3_PORT, … say): web-3 … on 8085 …, admin-3 … on 8093 … (admin-2's next
 * ports are web's).
 */
const BEYOND_SECOND: Record<ServerTier, number> = { web: 0, admin: 10 };

/** A port by name: one of the table's, or server n's of a tier (web1 … web9, admin1 … admin9: MAX_SERVERS). */
export type PortName = keyof typeof PORT_DEFAULTS | `${ServerTier}${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`;
/** A stack's ports: the design's eleven, and those of servers beyond the second it was resolved for. */
export type Ports = Record<keyof typeof PORT_DEFAULTS, number> & Partial<Record<PortName, number>>;
/** Every port's address (store, api, …, web1, web2), and every server's of each tier, first first. */
export type StackUrls = { [K in keyof Ports]: string } & Record<ServerTier, string[]>;

const isServerPort = (name: string) => /^(web|admin)\d+$/.test(name);

/** The name of a tier's n-th server's port: web1, admin3, … */
export const serverPortName = (tier: ServerTier, n: number) => `${tier}${n}` as PortName;

/** A tier's servers by name: web-1 … web-N. */
export const serverNames = (tier: ServerTier, count: number) =>
  Array.from({ length: count }, (_, i) => `${tier}-${i + 1}` as const);

/** The variable that sets a port: adminApi → ADMIN_API_PORT, web3 → WEB3_PORT. */
export const portEnv = (name: PortName) => `${stem(name)}_PORT`;
const stem = (name: PortName) => name.replace(/[A-Z]/g, "_$&").toUpperCase();

/** The ports a stack with these servers listens on, in the order they are resolved. */
export function portNames(servers: Servers): PortName[] {
  const own = Object.keys(PORT_DEFAULTS).filter((n) => !isServerPort(n)) as PortName[];
  const tier = (t: ServerTier) => Array.from({ length: servers[t] }, (_, i) => serverPortName(t, i + 1));
  return [...own, ...tier("web"), ...tier("admin")];
}

/** The design's two of each tier are always resolved, however many run. */
const withTheDesigns = (servers: Servers): Servers => ({
  web: Math.max(servers.web, DEFAULT_SERVERS.web),
  admin: Math.max(servers.admin, DEFAULT_SERVERS.admin),
});

/**
 * Each port from the options, else its variable, else the design's. A tier's servers
 * beyond the second follow its first (web-n on WEB1_PORT + n − 1, admin-n on
 * ADMIN1_PORT + n + 9) unless their own variable says. Bad or doubled ports are refused.
 *
 * @example resolvePorts({ store: 18080 }, process.env, { web: 3, admin: 2 }).web3 // 8085
 */
export function resolvePorts(
  given: Partial<Ports> | undefined,
  env: Env,
  servers: Servers = DEFAULT_SERVERS,
): Ports {
  const ports: Partial<Record<PortName, number>> = {};
  for (const name of portNames(withTheDesigns(servers))) {
    const raw = given?.[name] ?? env[portEnv(name)];
    if (raw === undefined || raw === "") {
      ports[name] = defaultPort(name, ports);
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${portEnv(name)}: not a port: ${raw}`);
    ports[name] = n;
  }
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(ports) as [PortName, number][]) {
    const other = seen.get(port);
    if (other) throw new Error(`${portEnv(name)} and ${other} are both ${port}`);
    seen.set(port, portEnv(name));
  }
  return ports as Ports;
}

/** A port's default: the table's, or for server n beyond the second, its first's + n − 1 + BEYOND_SECOND. */
function defaultPort(name: PortName, ports: Partial<Record<PortName, number>>): number {
  if (name in PORT_DEFAULTS) return PORT_DEFAULTS[name as keyof typeof PORT_DEFAULTS];
  const [, tier, n] = name.match(/^(web|admin)(\d+)$/)!;
  const first = ports[serverPortName(tier as ServerTier, 1)]!;
  return first + Number(n) - 1 + BEYOND_SECOND[tier as ServerTier];
}

/** A port of `ports`, or a clear error for a server they were not resolved for. */
export function portOf(ports: Ports, name: PortName): number {
  const port = ports[name];
  if (port === undefined) {
    throw new Error(`no port for ${name} (resolvePorts with the stack's servers gives one)`);
  }
  return port;
}

/** A port's address: the database's and Redis's by their scheme, the rest over HTTP. */
const urlOf = (name: PortName, port: number) =>
  name === "db"
    ? `mysql://${HOST}:${port}/bazaar`
    : name === "redis"
    ? `redis://${HOST}:${port}`
    : http(port);

/** The variables a port's address is told under: NAME_URL, but none for the database, two for the cache. */
const urlEnv = (name: PortName) =>
  name === "db" ? [] : name === "cache" ? ["CACHE_URL", "UPSTASH_REDIS_REST_URL"] : [`${stem(name)}_URL`];

/** stack.urls: every resolved port's address, and the servers the stack runs by tier. */
export function stackUrls(ports: Ports, servers: Servers): StackUrls {
  const urls = Object.fromEntries(
    portNames(withTheDesigns(servers)).map((name) => [name, urlOf(name, portOf(ports, name))]),
  );
  const tier = (t: ServerTier) =>
    Array.from({ length: servers[t] }, (_, i) => urls[serverPortName(t, i + 1)]!);
  return { ...urls, web: tier("web"), admin: tier("admin") } as StackUrls;
}

/** The ports and addresses of the services a stack runs as variables: STORE_PORT, STORE_URL, WEB3_URL, … */
export function addressEnv(ports: Ports, servers: Servers): Record<string, string> {
  return Object.fromEntries(
    portNames(servers).flatMap((name) => {
      const port = portOf(ports, name);
      return [[portEnv(name), String(port)], ...urlEnv(name).map((v) => [v, urlOf(name, port)])];
    }),
  );
}

/**
 * The variables proxy/haproxy.cfg reads, pointing at this stack's 127.0.0.1 ports.
 * Without `stats` (the bench's ceiling) the stats port answers 403 to everything.
 *
 * @example haproxyEnv(PORT_DEFAULTS).WEB1_ADDR // "127.0.0.1:8083"
 */
export function haproxyEnv(
  ports: Ports,
  stats?: { user: string; password: string },
  servers: Servers = DEFAULT_SERVERS,
): Record<string, string> {
  return {
    // Everyone is 127.0.0.1 here, and `bun run bench` and the load tests send far
    // more than any one real client from it (the ceiling alone ~20,000 requests a
    // second): no request-rate limit worth the name. The connection limit stays
    // compose's (1000 of maxconn's 4096), above the bench's 128 connections.
    REQ_LIMIT_PER_SOURCE_10S: "100000000",
    ...(stats ? { STATS_USER: stats.user, STATS_PASSWORD: stats.password } : {}),
    STORE_BIND: `${HOST}:${ports.store}`,
    STATS_BIND: `${HOST}:${ports.stats}`,
    // One WEB<n>_ADDR / ADMIN<n>_ADDR per server this stack runs: haproxy.cfg has a
    // server line for each one set.
    ...Object.fromEntries(
      portNames(servers).filter(isServerPort).map((
        n,
      ) => [`${stem(n)}_ADDR`, `${HOST}:${portOf(ports, n)}`]),
    ),
  };
}

/**
 * The services an API runs as: itself when it runs once, else api-1 … api-N (admin-api-1 …).
 *
 * @example replicaNames("adminApi", 2) // ["admin-api-1", "admin-api-2"]
 */
export const replicaNames = (tier: ApiTier, count: number) => {
  const service = tier === "api" ? "api" : "admin-api";
  return count > 1 ? Array.from({ length: count }, (_, i) => `${service}-${i + 1}` as const) : [service];
};

/**
 * Instance n of an API run as replicas, by one rule from the API's port (as the
 * Galera nodes from DB_PORT): api-n on API_PORT + 10n (5013, 5023), admin-api-n on
 * ADMIN_API_PORT + 10n (5012, 5022). The API's own port is then the internal proxy's
 * (proxy/internal.cfg), so web and admin call the address they always did.
 *
 * @example replicaPort(PORT_DEFAULTS, "adminApi", 2) // 5022
 */
export const replicaPort = (ports: Pick<Ports, ApiTier>, tier: ApiTier, n: number) => ports[tier] + 10 * n;

/**
 * Every replica's port with its service's name (none for an API run once).
 *
 * @example replicaPorts(PORT_DEFAULTS, { api: 2, adminApi: 1 }) // [{ name: "api-1", port: 5013 }, { name: "api-2", port: 5023 }]
 */
export const replicaPorts = (ports: Pick<Ports, ApiTier>, replicas: ApiReplicas) =>
  (["api", "adminApi"] as const).flatMap((tier) =>
    replicas[tier] > 1
      ? replicaNames(tier, replicas[tier]).map((name, i) => ({ name, port: replicaPort(ports, tier, i + 1) }))
      : []
  );

/**
 * The variables proxy/internal.cfg reads, pointing at this stack's 127.0.0.1 ports: a
 * frontend on the API's own port, and a server line per instance, for each API run as
 * replicas.
 *
 * @example internalProxyEnv(PORT_DEFAULTS, { api: 2, adminApi: 1 }).API2_ADDR // "127.0.0.1:5023"
 */
export function internalProxyEnv(ports: Pick<Ports, ApiTier>, replicas: ApiReplicas): Record<string, string> {
  const env: Record<string, string> = { ONLY_BOUND_FRONTENDS: "1" };
  for (const tier of ["api", "adminApi"] as const) {
    if (replicas[tier] < 2) continue;
    const prefix = stem(tier);
    env[`${prefix}_BIND`] = `${HOST}:${ports[tier]}`;
    for (let n = 1; n <= replicas[tier]; n++) {
      env[`${prefix}${n}_ADDR`] = `${HOST}:${replicaPort(ports, tier, n)}`;
    }
  }
  return env;
}
