// The launcher's public face: what the bench, the test runner and the tests use of
// local/, from this one module. Its files are its own business.
//
//   const requests = stopRequests();
//   const stack = await startStack({ quiet: true, signal: requests.signal });
//   stopOnSignals(requests, stack);

// The stack: start it, stop it.
export { type Stack, type StackOptions, StartInterrupted, startStack } from "./stack.ts";
export { StackStartError } from "./runner.ts";
export { signalExitCode, stopOnSignals, type StopRequests, stopRequests, whenAborted } from "./stop.ts";

// Its configuration: services, ports, servers, how apps run.
export {
  API_SERVERS_ENV,
  type ApiReplicas,
  DB_NODES_ENV,
  DEFAULT_SERVERS,
  MAX_API_SERVERS,
  MAX_SERVERS,
  REPO_ROOT,
  type Secrets,
  type Servers,
  SERVERS_ENV,
  type ServerTier,
} from "./config.ts";
export { type Context, internalStatsSocket, SERVICE_NAMES, type ServiceName } from "./services.ts";
export {
  haproxyEnv,
  internalProxyEnv,
  PORT_DEFAULTS,
  portEnv,
  type PortName,
  type Ports,
  replicaPort,
  replicaPorts,
  resolvePorts,
  serverNames,
  serverPortName,
  type StackUrls,
} from "./ports.ts";
export { EPHEMERAL_PORTS, inEphemeralRange, plannedPorts, PORT_PLAN } from "./port-plan.ts";
export { nodeLayout, nodeNames, nodePorts } from "./galera.ts";
export { type AppName, denoCommand, type Runtime } from "./runtime.ts";

// Its parts, for a process of one's own beside it (the bench's ceiling) and for tests.
export { BROWSER, PROGRAMS, requirePrograms, which } from "./system.ts";
export { portTaken, tcpOpen, waitFor } from "./health.ts";
export { fileSink } from "./log-sinks.ts";
export { ManagedProcess } from "./managed-process.ts";
export { alive } from "./pid-files.ts";
export {
  dbLayout,
  ensureInstalled,
  mariadbdCommand,
  rootSql,
  seedAndConfigure,
  socketUser,
} from "./mariadb.ts";
