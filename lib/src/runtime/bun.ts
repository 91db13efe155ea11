// Bun's side of an entry: serve, and on SIGTERM/SIGINT drain, finish in-flight
// requests, close pools and exit 0.
import { secretsCommand } from "../secrets/secrets.ts";
import { build, drainable, type Running, shutdownOnSignals } from "./start.ts";

/**
 * "compiled" inside a `bun build --compile` executable (its modules live in Bun's
 * embedded /$bunfs), else "bun": the start-up line says which, so a test can tell
 * that the stack really ran the executables the images ship.
 */
export const bunRuntime = () => (Bun.main.startsWith("/$bunfs/") ? "compiled" : "bun");

export async function serve(name: string, make: () => Running) {
  // `<executable> --init-secrets` (compose's one-shot secrets service) and
  // `--show-admin-password`: before the config is read, which would want the app's
  // own variables.
  const code = secretsCommand(process.argv.slice(2), process.env);
  if (code !== undefined) process.exit(code);
  const app = build(name, make);
  // `<executable> --healthcheck`: the container's HEALTHCHECK, with no curl in the image.
  if (process.argv.includes("--healthcheck")) {
    const ok = await fetch(`http://127.0.0.1:${app.port}/healthz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok, () => false);
    process.exit(ok ? 0 : 1);
  }
  const { fetch: handler, drain } = drainable(app.fetch);
  const server = Bun.serve({ port: app.port, hostname: app.hostname, fetch: handler, idleTimeout: 30 });
  console.log(
    JSON.stringify({
      level: "info",
      service: name,
      msg: `listening on http://${app.hostname}:${server.port}`,
      runtime: bunRuntime(),
    }),
  );
  shutdownOnSignals(name, app, drain, {
    onSignal: (signal, handler) => process.on(signal, handler),
    stopServer: () => server.stop(),
    exit: (code) => process.exit(code),
  });
  return server;
}
