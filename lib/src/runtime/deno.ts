// Deno's side of an entry: the same contract as ./bun.ts on Deno.serve.
import { build, drainable, sleep, type Running } from "./start.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

export function serve(name: string, make: () => Running) {
  const app = build(name, make);
  const { fetch, drain } = drainable(app.fetch);
  const server = Deno.serve({
    port: app.port,
    hostname: app.hostname,
    onListen: ({ hostname, port }: { hostname: string; port: number }) =>
      console.log(JSON.stringify({ level: "info", service: name, msg: `listening on http://${hostname}:${port}`, runtime: "deno" })),
  }, fetch);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: "info", service: name, msg: `${signal}: draining` }));
    drain();
    if (app.drainMs) await sleep(app.drainMs);
    await server.shutdown();
    await app.close?.();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  return server;
}
