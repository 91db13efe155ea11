import process from "node:process";
import { serve } from "@bazaar/lib/runtime/deno.ts";
import { type ApiServer, server } from "./server.ts";

let app: ApiServer | undefined;
serve("api", () => (app = server(process.env)));
// Once it serves (a one-shot run has exited inside serve()).
app?.startBackground();
