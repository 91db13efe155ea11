// What every entry does before handing the app to its runtime: read the config
// (or stop with a message naming the bad variable) and build the app.
import process from "node:process";
import os from "node:os";
import { ConfigError } from "../config.ts";

export type Running = {
  fetch: (req: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  /** Close pools once in-flight requests are done. */
  close?: () => unknown;
  /**
   * Ends the responses that never end on their own (the api's change streams), when
   * draining begins: the server's stop waits for every response in flight.
   */
  endStreams?: () => void;
  /** How long to keep serving after SIGTERM while /healthz says 503 (for the balancer). */
  drainMs?: number;
};

/** What every server's parsed config has: ServerEnv's and its own PORT. */
export type ServerConfig = { PORT: number; HOST: string; SHUTDOWN_DRAIN_MS: number };

/**
 * What every server.ts does: build the app from its config (read by loadConfig, whose
 * ConfigError `build` reports), and serve it where the config says (PORT, HOST,
 * SHUTDOWN_DRAIN_MS from ServerEnv).
 * @example
 * const server = (env: Env) => fromConfig(loadConfig(WebEnv, env), (config) => createApp({ ... }));
 */
export function fromConfig<C extends ServerConfig>(
  config: C,
  make: (config: C) => Pick<Running, "fetch" | "close" | "endStreams">,
): Running {
  const { fetch, close, endStreams } = make(config);
  return {
    fetch,
    close,
    endStreams,
    port: config.PORT,
    hostname: config.HOST,
    drainMs: config.SHUTDOWN_DRAIN_MS,
  };
}

export function build(name: string, make: () => Running): Running {
  try {
    return make();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${name}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

/** The identity shown on every page: the hostname, plus the instance where several share it. */
export const identity = (instance: string) => (instance ? `${os.hostname()} · ${instance}` : os.hostname());

/** Answers /healthz with 503 while draining so the balancer stops sending new requests. */
export function drainable(fetch: Running["fetch"]) {
  let draining = false;
  return {
    fetch: (req: Request) =>
      draining && new URL(req.url).pathname.endsWith("/healthz")
        ? Response.json({ error: { code: 503, message: "shutting down" } }, { status: 503 })
        : fetch(req),
    drain: () => {
      draining = true;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The shutdown both runtimes share: on the first SIGTERM/SIGINT, fail /healthz,
 * keep serving for drainMs so the balancer moves away, stop the server (in-flight
 * requests finish), close the pools, exit 0.
 */
export function shutdownOnSignals(name: string, app: Running, drain: () => void, hooks: {
  onSignal: (signal: "SIGTERM" | "SIGINT", handler: () => void) => void;
  stopServer: () => Promise<unknown>;
  exit: (code: number) => void;
}) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: "info", service: name, msg: `${signal}: draining` }));
    drain();
    app.endStreams?.();
    if (app.drainMs) await sleep(app.drainMs);
    await hooks.stopServer();
    await app.close?.();
    hooks.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) hooks.onSignal(signal, () => void stop(signal));
}
