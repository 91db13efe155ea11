import process from "node:process";
import { serve } from "@bazaar/lib/runtime/deno.ts";
import { server } from "./server.ts";

serve("admin", () => server(process.env));
