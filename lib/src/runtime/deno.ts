// Deno's side of an entry: the same contract as ./bun.ts on Deno.serve.
import process from "node:process";
import { secretsCommand } from "../secrets/secrets.ts";
import { build, drainable, type Running, shutdownOnSignals } from "./start.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

export function serve(name: string, make: () => Running) {
  // The one-shot modes, as in ./bun.ts: before the app's config is read.
  const code = secretsCommand(process.argv.slice(2), process.env);
  if (code !== undefined) Deno.exit(code);
  const app = build(name, make);
  const { fetch, drain } = drainable(app.fetch);
  // Signal listeners first: a SIGTERM right after the "listening" line must drain,
  // not kill (Deno sets its handlers up asynchronously).
  let server: { shutdown(): Promise<void> } | undefined = undefined;
  shutdownOnSignals(name, app, drain, {
    onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
    stopServer: () => server?.shutdown() ?? Promise.resolve(),
    exit: (code) => Deno.exit(code),
  });
  server = Deno.serve({
    port: app.port,
    hostname: app.hostname,
    onListen: ({ hostname, port }: { hostname: string; port: number }) =>
      console.log(
        JSON.stringify({
          level: "info",
          service: name,
          msg: `listening on http://${hostname}:${port}`,
          runtime: "deno",
        }),
      ),
  }, fetch);
  return server;
}
