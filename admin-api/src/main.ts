import { serve } from "@bazaar/lib/runtime/bun.ts";
import { type AdminApiServer, server } from "./server.ts";

let app: AdminApiServer | undefined;
// No top-level await: the compiled executable (--bytecode) is CommonJS.
void serve("admin-api", () => (app = server(process.env))).then(() => {
  // Once it serves: a `--healthcheck` or `--init-secrets` run has exited inside serve().
  app?.startBackground();
});
