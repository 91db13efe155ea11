import type { ServiceDeps } from "@bazaar/lib/service.ts";

/** What the api's routes get. */
export type ApiDeps = ServiceDeps;
