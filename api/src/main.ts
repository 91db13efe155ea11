import { serve } from "@bazaar/lib/runtime/bun.ts";
import { type ApiServer, server } from "./server.ts";

let app: ApiServer | undefined;
// No top-level await: the compiled executable (--bytecode) is CommonJS.
void serve("api", () => (app = server(process.env))).then(() => {
  // Once it serves: a `--healthcheck` run has exited inside serve().
  app?.startBackground();
});
