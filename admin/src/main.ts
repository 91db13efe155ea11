import { serve } from "@bazaar/lib/runtime/bun.ts";
import { server } from "./server.ts";

serve("admin", () => server(process.env));
